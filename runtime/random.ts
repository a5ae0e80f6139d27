import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

/** A source of numbers in [0, 1): `Math.random`, or a seeded one that repeats exactly. */
export type Random = () => number;

/** A seeded generator (xoroshiro128+), so a choice, a sample or a chaos run can be repeated. */
export function seededRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed | 0);
  return () => uniformFloat64(rng);
}
