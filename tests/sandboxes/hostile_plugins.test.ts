import assert from "node:assert/strict";
import { inspectWasm, parseManifest, Sandbox, SandboxError } from "../../sandboxes/mod.ts";
import { HOSTILE_IMPORTS, hostileWasm, watFixture, withSandbox } from "../plugin_helpers.ts";
import { coresBusy } from "../cpu.ts";
import { EffectLog, withEffects } from "../../runtime/mod.ts";

const kind = (k: string, text?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof SandboxError, `expected a SandboxError, got ${err}`);
  assert.equal(err.kind, k, err.message);
  if (text) assert.match(err.message, text);
  return true;
};

Deno.test("a plugin gets JSON in and gives JSON out; a plugin error is returned as such", async () => {
  await withSandbox(
    await hostileWasm(),
    { name: "hostile", hostFunctions: [...HOSTILE_IMPORTS] },
    async (sb) => {
      assert.deepEqual((await sb.call("echo", { text: "héllo" })).json(), {
        echo: "héllo",
        length: 5,
      });
      await assert.rejects(sb.call("refuse", "no"), kind("plugin_error", /refused: no/));
      await assert.rejects(sb.call("missing"), kind("missing_export", /missing/));
    },
  );
});

Deno.test("an endless loop stops itself when its fuel is spent: same instance, same thread, nothing left running", async () => {
  await withSandbox(await hostileWasm(), {
    name: "hostile",
    hostFunctions: [...HOSTILE_IMPORTS],
    limits: { timeoutMs: 5000, fuel: 1_000_000 },
  }, async (sb) => {
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        sb.call("spin"),
        kind("out_of_fuel", /all of its 1000000 units of fuel/),
      );
      assert.equal((await sb.call("echo", { text: "again" })).json().echo, "again");
    }
    assert.equal(sb.starts, 1, "no restart: the thread is free again");
    assert.equal(sb.unmetered, undefined);
    assert.ok((await coresBusy()) < 0.35, "a core is still busy after the loop stopped");
  }, { isolation: "thread" });
});

Deno.test("a loop whose fuel outlasts its time limit is stopped there: the process is killed, the CPU idle, the next call served", async () => {
  await withSandbox(await hostileWasm(), {
    name: "hostile",
    hostFunctions: [...HOSTILE_IMPORTS],
    limits: { timeoutMs: 200, fuel: 2 ** 52 },
  }, async (sb) => {
    assert.equal((await sb.call("echo", { text: "first" })).json().echo, "first");
    const t0 = performance.now();
    await assert.rejects(sb.call("spin"), kind("timeout", /200 ms time limit/));
    assert.ok(performance.now() - t0 < 5000);
    // Nothing of the stopped call keeps running: not its process, not a thread of ours.
    assert.ok((await coresBusy()) < 0.35, "a core is still busy after the plugin was stopped");
    assert.equal((await sb.call("echo", { text: "again" })).json().echo, "again");
    assert.equal(sb.starts, 2);
  });
});

Deno.test("memory growth stops at the plugin's memory cap, not the machine's", async () => {
  await withSandbox(await hostileWasm(), {
    name: "hostile",
    hostFunctions: [...HOSTILE_IMPORTS],
    limits: { memoryPages: 64 },
  }, async (sb) => {
    await assert.rejects(sb.call("grow"), kind("memory_limit", /of its 64 pages/));
    // The instance is still usable for calls that fit.
    assert.equal((await sb.call("echo", { text: "ok" })).json().echo, "ok");
  });
});

Deno.test("a module asking for more initial memory than its cap is refused before it runs", async () => {
  await assert.rejects(
    Sandbox.create(parseManifest({ name: "big", wasm: "x.wasm", limits: { memoryPages: 256 } }), {
      wasm: await watFixture("big_memory.wat"),
    }),
    kind("memory_limit", /needs 512 pages/),
  );
});

Deno.test("a trap names what the plugin was doing when it failed", async () => {
  await withSandbox(
    await hostileWasm(),
    { name: "hostile", hostFunctions: [...HOSTILE_IMPORTS] },
    async (sb) => {
      await assert.rejects(sb.call("trap"), kind("trap", /unreachable.*Index out of range/));
    },
  );
});

Deno.test("output larger than maxOutputBytes is refused", async () => {
  await withSandbox(
    await hostileWasm(),
    { name: "hostile", hostFunctions: [...HOSTILE_IMPORTS], limits: { maxOutputBytes: 1 << 20 } },
    async (sb) => {
      await assert.rejects(sb.call("huge"), kind("output_limit", /3145728 bytes/));
    },
  );
});

Deno.test("malformed and truncated wasm is refused with the reason", async () => {
  const good = await hostileWasm();
  const manifest = parseManifest({ name: "bad", wasm: "bad.wasm" });
  await assert.rejects(
    Sandbox.create(manifest, { wasm: new TextEncoder().encode("#!/bin/sh\nrm -rf /\n") }),
    kind("invalid_wasm", /not a valid WebAssembly module/),
  );
  await assert.rejects(
    Sandbox.create(manifest, { wasm: good.subarray(0, good.length / 2) }),
    kind("invalid_wasm", /truncated/),
  );
});

Deno.test("imports troupe does not provide are refused, naming the import", async () => {
  const manifest = (name: string) => parseManifest({ name, wasm: `${name}.wasm` });
  await assert.rejects(
    Sandbox.create(manifest("missiles"), { wasm: await watFixture("launch_missiles.wat") }),
    kind("missing_import", /env::launch_missiles/),
  );
  await assert.rejects(
    Sandbox.create(manifest("wasi"), { wasm: await watFixture("wants_wasi.wat") }),
    kind("needs_wasi", /wasi_snapshot_preview1::fd_write/),
  );
  // The fixture imports troupe::kv_get and friends; a manifest that does not request them
  // does not get them.
  const shape = await inspectWasm(await hostileWasm());
  assert.ok(shape.imports.some((i) => i.module === "troupe" && i.name === "kv_set"));
  await assert.rejects(
    Sandbox.create(manifest("hostile"), { wasm: await hostileWasm() }),
    kind("missing_import", /troupe::\w+ but its manifest does not request it/),
  );
});

Deno.test("a wasm file whose SHA-256 differs from its manifest is not loaded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/p.wasm`, await watFixture("reverse.wat"));
    const manifest = parseManifest({ name: "rev", wasm: `${dir}/p.wasm`, sha256: "0".repeat(64) });
    await assert.rejects(Sandbox.create(manifest), kind("hash_mismatch", /expects 0000/));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plugin written without troupe's kit (hand-written WAT) runs unchanged", async () => {
  await withSandbox(await watFixture("reverse.wat"), { name: "reverse" }, async (sb) => {
    assert.equal((await sb.call("reverse", "stressed")).text(), "desserts");
  });
});

Deno.test("a plugin called inside an agent's task goes through its effect log: a replay answers from the record without calling the plugin", async () => {
  const log = new EffectLog();
  await withSandbox(await watFixture("reverse.wat"), { name: "reverse" }, async (sb) => {
    const out = await withEffects(log, () => sb.call("reverse", "stressed"));
    assert.equal(out.text(), "desserts");
    assert.deepEqual(log.effects.map((e) => `${e.kind} ${e.key}`), ["plugin reverse/reverse"]);
    // Closed, the sandbox would refuse any call: the replay's answer is the recorded one.
    sb.close();
    const replay = new EffectLog(log.effects);
    assert.equal(
      (await withEffects(replay, () => sb.call("reverse", "stressed"))).text(),
      "desserts",
    );
    await assert.rejects(sb.call("reverse", "stressed"), /closed/);
  });
});

for (const isolation of ["process", "thread"] as const) {
  Deno.test(`calls larger than the shared call buffer go by message, in order with small ones (${isolation})`, async () => {
    await withSandbox(await watFixture("reverse.wat"), { name: "reverse" }, async (sb) => {
      // 64 KiB is the buffer: a 200 KiB input and its 200 KiB output cross by postMessage.
      const big = Array.from({ length: 200 * 1024 }, (_, i) => "abcdefghij"[i % 10]).join("");
      const small = ["stressed", big, "drawer", big.slice(0, 70_000), "live"];
      const answers = await Promise.all(small.map((text) => sb.call("reverse", text)));
      assert.deepEqual(
        answers.map((a) => a.text()),
        small.map((text) => [...text].reverse().join("")),
      );
      assert.equal(sb.starts, 1);
    }, { isolation });
  });
}

Deno.test("one plugin stuck in a loop does not stop another from serving", async () => {
  const wasm = await hostileWasm();
  await withSandbox(wasm, {
    name: "a",
    hostFunctions: [...HOSTILE_IMPORTS],
    limits: { timeoutMs: 300, fuel: 2 ** 52 },
  }, async (a) => {
    await withSandbox(wasm, { name: "b", hostFunctions: [...HOSTILE_IMPORTS] }, async (b) => {
      const stuck = a.call("spin").catch((e) => e);
      for (let i = 0; i < 20; i++) {
        assert.equal((await b.call("echo", { text: `n${i}` })).json().echo, `n${i}`);
      }
      assert.equal((await stuck as SandboxError).kind, "timeout");
    });
  });
});

Deno.test("an export that returns non-zero has failed, as Extism's convention says", async () => {
  await withSandbox(await watFixture("exit_code.wat"), { name: "exit" }, async (sb) => {
    assert.equal((await sb.call("status", "")).text(), "checked");
    assert.equal((await sb.call("status", "\u0000")).text(), "checked");
    await assert.rejects(
      sb.call("status", "\u0001"),
      kind("plugin_error", /: status returned 1; its output: checked$/),
    );
    await assert.rejects(sb.call("status", "*"), kind("plugin_error", /status returned 42/));
    // The failure is of that call only: the plugin keeps serving.
    assert.equal((await sb.call("status", "")).text(), "checked");
  });
});
