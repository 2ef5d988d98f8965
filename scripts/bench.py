"""`make bench`: how fast the whole stack answers, measured in one run on this machine.

Starts the stack as `make run` does (scripts/run.py) on free ports, its own database
(a fresh PostgreSQL schema when PostgreSQL is reachable, else SQLite) and Redis when
reachable, then measures:

- NLU parse latency (Rasa `/model/parse`), p50 / p99;
- a text message end to end through `/wechat/oa` (signed, AES-encrypted XML in, encrypted
  passive reply out: the app, Rasa, the actions and the database) at 1, 8 and 32
  residents writing at once, and the same messages sent straight to Rasa's REST channel
  (the baseline, which runs the same actions), with the ratio of their p99s. A resident
  writes the five messages of a visit (`MESSAGES`), one after another, and the next
  resident takes their place; the two paths take turns in rounds (REST, WeChat, WeChat,
  REST…) so a machine that slows down mid-run slows both alike;
- the same at one resident in a single long conversation (`LONG_TURNS` messages in one
  session): Rasa hands the whole session to the policies and to every action, so late
  turns of a long session cost more; reported, not a target;
- the app's and Rasa's memory (RSS) and the time Rasa takes to load the model.

Prints a table, writes results/bench.json, and exits 1 if a target is missed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import platform
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from wechatpy.crypto import WeChatCrypto

from integrations.property import LocalPropertySystem
from integrations.wechat.signing import sign
from integrations.wechat.xml import parse_fields
from scripts.processes import child_pids
from scripts.rasa_env import MODEL, ROOT
from scripts.stack import RunningStack

RESULTS = ROOT / "results" / "bench.json"
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
LEVELS = (1, 8, 32)
# Rounds per path at each level; in a round every resident writing at once has one visit.
# At least 120 messages a path and level: a p99 of fewer is little more than the maximum.
ROUNDS = {1: 24, 8: 8, 32: 2}
LONG_TURNS = 60
PARSES = 200
# A visit, what residents write most: a greeting, a bill (actions + database), the office's
# number (FAQ), their repairs (actions + database), thanks.
MESSAGES = ("你好", "这个月物业费多少", "物业电话是多少", "我的报修到哪了", "谢谢")
Openids = dict[str, list[str]]
TARGETS = {
    "e2e_p99_over_rest_p99": 1.3,  # at every level
    "slowest_reply_at_32_s": 4.5,
    "e2e_p50_at_1_ms": 60.0,
}


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ms = [value * 1000 for value in latencies]
    return {
        "messages": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "per_second": round(len(ms) / seconds, 1),
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        with suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            pending += child_pids(current)
    return round(total / 1024, 1)


class OfficialAccount:
    """WeChat's side of the encrypted Official Account callback."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.app_id = "wx" + secrets.token_hex(8)
        self.aes_key = base64.b64encode(secrets.token_bytes(32)).decode()[:43]
        self.crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
        self.msg_ids = iter(range(random.randrange(10**12), 10**13))

    def settings(self) -> dict[str, str]:
        return {
            "WECHAT_TOKEN": self.token,
            "WECHAT_APP_ID": self.app_id,
            "WECHAT_ENCODING_AES_KEY": self.aes_key,
        }

    def request(self, openid: str, text: str) -> tuple[dict[str, str], bytes]:
        now, nonce = str(int(time.time())), secrets.token_hex(5)
        plain = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{next(self.msg_ids)}</MsgId></xml>"
        )
        encrypted = parse_fields(self.crypto.encrypt_message(plain, nonce, now).encode())
        query = {
            "signature": sign(self.token, now, nonce),
            "timestamp": now,
            "nonce": nonce,
            "openid": openid,
            "encrypt_type": "aes",
            "msg_signature": encrypted["MsgSignature"],
        }
        body = (
            "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted['Encrypt']}]]></Encrypt></xml>"
        )
        return query, body.encode()

    def reply_text(self, content: bytes) -> str:
        fields = parse_fields(content)
        plain = self.crypto.decrypt_message(
            content.decode(), fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
        )
        return parse_fields(plain.encode())["Content"]


Send = Callable[[str, str], Awaitable[None]]


async def run_round(residents: list[str], send: Send) -> tuple[list[float], float]:
    """Each resident has one visit, all at once."""
    latencies: list[float] = []

    async def visit(openid: str) -> None:
        for text in MESSAGES:
            started = time.perf_counter()
            await send(openid, text)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(visit(openid) for openid in residents))
    return latencies, time.perf_counter() - started


class Bench:
    def __init__(self, stack: RunningStack, oa: OfficialAccount, openids: Openids) -> None:
        self.app_url, self.rasa_url, self.oa = stack.app_url, stack.rasa_url, oa
        self.rasa_token = {"token": stack.env["RASA_TOKEN"]}
        self.openids = {path: iter(ids) for path, ids in openids.items()}
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self.http = httpx.AsyncClient(timeout=30, limits=limits)

    def residents(self, path: str, count: int) -> list[str]:
        """Residents who have not written yet: every visit is a new conversation."""
        return [next(self.openids[path]) for _ in range(count)]

    async def through_wechat(self, openid: str, text: str) -> None:
        query, body = self.oa.request(openid, text)
        response = await self.http.post(f"{self.app_url}/wechat/oa", params=query, content=body)
        response.raise_for_status()
        if response.content in (b"success", b""):
            raise RuntimeError(f"no passive reply to {text!r} (deferred past the deadline)")
        assert self.oa.reply_text(response.content)

    async def through_rest(self, openid: str, text: str) -> None:
        response = await self.http.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            params=self.rasa_token,
            json={"sender": openid, "message": text},
        )
        response.raise_for_status()
        assert response.json()

    async def parse_latency(self) -> dict[str, float]:
        latencies = []
        for i in range(PARSES):
            started = time.perf_counter()
            response = await self.http.post(
                f"{self.rasa_url}/model/parse",
                params=self.rasa_token,
                json={"text": MESSAGES[i % len(MESSAGES)]},
            )
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)
        return summary(latencies, sum(latencies))

    async def model_load_seconds(self) -> float:
        started = time.perf_counter()
        response = await self.http.put(
            f"{self.rasa_url}/model",
            params=self.rasa_token,
            json={"model_file": str(MODEL)},
            timeout=300,
        )
        response.raise_for_status()
        return round(time.perf_counter() - started, 2)

    async def levels(self) -> list[dict[str, Any]]:
        for _ in range(2):  # both paths warmed up
            await run_round(self.residents("rest", 1), self.through_rest)
            await run_round(self.residents("wechat", 1), self.through_wechat)
        rows = []
        for level in LEVELS:
            paths = {"rest": self.through_rest, "wechat": self.through_wechat}
            measured: dict[str, tuple[list[float], float]] = {path: ([], 0.0) for path in paths}
            for round_ in range(ROUNDS[level]):
                order = ("rest", "wechat") if round_ % 4 in (0, 3) else ("wechat", "rest")
                for path in order:
                    latencies, seconds = await run_round(self.residents(path, level), paths[path])
                    measured[path] = (measured[path][0] + latencies, measured[path][1] + seconds)
            e2e, rest = summary(*measured["wechat"]), summary(*measured["rest"])
            rows.append(
                {
                    "concurrency": level,
                    "e2e": e2e,
                    "rest": rest,
                    "p99_ratio": round(e2e["p99_ms"] / rest["p99_ms"], 2),
                }
            )
        return rows

    async def long_conversation(self) -> dict[str, dict[str, float]]:
        """p50 of the last third of one resident's `LONG_TURNS` messages, on each path."""
        result = {}
        for path, send in (("e2e", self.through_wechat), ("rest", self.through_rest)):
            openid = self.residents("wechat" if path == "e2e" else "rest", 1)[0]
            latencies = []
            for turn in range(LONG_TURNS):
                started = time.perf_counter()
                await send(openid, MESSAGES[turn % len(MESSAGES)])
                latencies.append(time.perf_counter() - started)
            late = latencies[-LONG_TURNS // 3 :]
            result[path] = summary(late, sum(late))
        return result


def database() -> tuple[str, Callable[[], None]]:
    """A fresh PostgreSQL schema if PostgreSQL is there, else SQLite in a temporary folder."""
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=2)
    except psycopg.Error:
        folder = tempfile.mkdtemp(prefix="wuye-bench-")
        return f"sqlite:///{folder}/wuye.db", lambda: None
    schema = f"bench_{secrets.token_hex(4)}"
    admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    return url, lambda: (admin.execute(f"DROP SCHEMA {schema} CASCADE"), admin.close())


def redis_settings() -> dict[str, str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return {}
    return {"REDIS_URL": REDIS_URL}


def process_of(stack: RunningStack) -> dict[str, int]:
    """The stack's processes by what they run: {"rasa": pid, "app": pid}."""
    assert stack.process is not None
    found = {}
    for child in child_pids(stack.process.pid):
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0]
        found["rasa" if b"rasa" in command else "app"] = child
    return found


def table(result: dict[str, Any]) -> str:
    parse, rss, long = result["nlu_parse"], result["rss_mb"], result["long_conversation"]
    lines = [
        f"NLU parse: p50 {parse['p50_ms']} ms, p99 {parse['p99_ms']} ms · model load "
        f"{result['model_load_s']} s · RSS app {rss['app']} MB, Rasa {rss['rasa']} MB",
        "",
        "residents | WeChat end to end p50/p99/max ms, msg/s | Rasa REST p50/p99/max ms, msg/s"
        " | p99 ratio",
    ]
    for row in result["levels"]:
        cells = [
            f"{s['p50_ms']} / {s['p99_ms']} / {s['max_ms']}, {s['per_second']}"
            for s in (row["e2e"], row["rest"])
        ]
        lines.append(f"{row['concurrency']:>9} | {cells[0]} | {cells[1]} | {row['p99_ratio']}")
    lines += [
        "",
        f"One resident, turns {LONG_TURNS * 2 // 3 + 1}–{LONG_TURNS} of one conversation: "
        f"WeChat end to end p50 {long['e2e']['p50_ms']} ms, Rasa REST p50 "
        f"{long['rest']['p50_ms']} ms",
        "",
    ]
    lines += [f"{'met   ' if ok else 'MISSED'} {name}" for name, ok in result["targets"].items()]
    return "\n".join(lines)


def verdicts(levels: list[dict[str, Any]]) -> dict[str, bool]:
    by_level = {row["concurrency"]: row for row in levels}
    ratio = TARGETS["e2e_p99_over_rest_p99"]
    slowest = TARGETS["slowest_reply_at_32_s"]
    p50 = TARGETS["e2e_p50_at_1_ms"]
    return {
        f"end-to-end p99 <= {ratio} x Rasa REST p99 at every level": all(
            row["p99_ratio"] <= ratio for row in levels
        ),
        f"no reply later than {slowest} s at 32 residents": (
            by_level[32]["e2e"]["max_ms"] <= slowest * 1000
        ),
        f"end-to-end p50 <= {p50} ms at 1 resident": by_level[1]["e2e"]["p50_ms"] <= p50,
    }


async def measure(stack: RunningStack, oa: OfficialAccount, openids: Openids) -> dict[str, Any]:
    bench = Bench(stack, oa, openids)
    try:
        model_load = await bench.model_load_seconds()
        parse = await bench.parse_latency()
        levels = await bench.levels()
        long = await bench.long_conversation()
    finally:
        await bench.http.aclose()
    return {
        "model_load_s": model_load,
        "nlu_parse": parse,
        "levels": levels,
        "long_conversation": long,
    }


def main() -> None:
    oa = OfficialAccount()
    database_url, drop_database = database()
    var = Path(tempfile.mkdtemp(prefix="wuye-bench-var-"))
    env = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var),
        "LOG_LEVEL": "WARNING",
        **redis_settings(),
        **oa.settings(),
    }
    stack = RunningStack(env, var / "stack.log")
    stack.start()
    try:
        system = LocalPropertySystem.from_url(database_url)
        needed = 2 + sum(level * rounds for level, rounds in ROUNDS.items()) + 1
        openids = {
            path: [f"o-bench-{path}-{i:03d}-{secrets.token_hex(3)}" for i in range(needed)]
            for path in ("wechat", "rest")
        }
        for openid in openids["wechat"] + openids["rest"]:
            system.residents.bind(
                openid, building="1", unit="1", room="101", phone_last4="0001", role="family"
            )
        result = asyncio.run(measure(stack, oa, openids))
        result["rss_mb"] = {name: rss_mb(pid) for name, pid in process_of(stack).items()}
    finally:
        stack.interrupt()
        drop_database()
    result["targets"] = verdicts(result["levels"])
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "database": database_url.split(":", 1)[0],
        "redis": "REDIS_URL" in env,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(table(result))
    print(f"\n{RESULTS.relative_to(ROOT)} written")
    if not all(result["targets"].values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
