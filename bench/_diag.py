import asyncio, tempfile, time, collections, sys, json
from pathlib import Path
import bench.load_handoffs as lh
from bench.load_stack import running_stack
from bench.load import recording

async def nothing(slack, timeout=0): pass
lh.wait_quiet = nothing

async def main(n, watch):
    with tempfile.TemporaryDirectory() as d:
        async with running_stack(Path(d)) as stack, recording(stack) as slack:
            t0 = time.monotonic()
            h = await lh.hand_off_all(stack, slack, n, 20)
            print("handoffs", h.wall, len(h.guests), flush=True)
            await asyncio.sleep(watch)
            calls = stack.emulator.calls
            per = collections.Counter()
            kinds = collections.Counter()
            samples = {}
            for c in calls:
                sec = int(c.at - t0)
                k = c.method
                if c.method == "chat.postMessage":
                    k += ":thread" if c.params.get("thread_ts") else ":top"
                    txt = str(c.params.get("text"))[:100]
                    samples.setdefault((k, txt[:30]), txt)
                per[(sec // 5 * 5, k)] += 1
                kinds[k] += 1
            print(kinds)
            for key in sorted(per): print(key, per[key])
            for k, v in list(samples.items())[:30]: print(k[0], repr(v))
            print(open(Path(d)/"bridge"/"bridge.log").read()[-3000:])

asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
