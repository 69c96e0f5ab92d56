"""Text messages to people without an account (a recipient's one-time code).

`SmsSender` is the interface a real provider (Twilio, MessageBird, ...) implements.
`SandboxSms`, the default, sends nothing: it appends each message as a JSON line to
`<data_dir>/sandbox/sms.jsonl` (to, body, time), where a developer or a test reads it."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path


class SmsSender:
    async def send(self, to: str, body: str) -> None:
        raise NotImplementedError


class SandboxSms(SmsSender):
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "sandbox" / "sms.jsonl"

    async def send(self, to: str, body: str) -> None:
        line = json.dumps({"to": to, "body": body, "at": datetime.now(timezone.utc).isoformat()})
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def sent(self, to: str | None = None) -> list[dict]:
        """What the sandbox has sent (to one number), oldest first."""
        if not self.path.is_file():
            return []
        rows = [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines() if x]
        return [r for r in rows if to is None or r["to"] == to]
