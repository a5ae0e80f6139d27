/** How busy this process and those it started are: the chaos suite's measure, for the tests. */
export { coresBusy } from "../chaos/cores_busy.ts";
