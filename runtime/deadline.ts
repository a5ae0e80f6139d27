/** Waits for `work` but no longer than `ms`; resolves either way, never rejects. */
export async function waitAtMost(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (work === undefined) return; // nothing to wait for, so no timer: idle actors stop at once
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.resolve(work).catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
