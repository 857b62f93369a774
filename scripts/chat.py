"""Chat with the bot in a terminal through Rasa's REST channel, the way a citizen would on Telegram.

Buttons are shown numbered; type the number to press one (sent as the button's payload, the only way the REST
channel accepts an intent). `/restart` starts a new conversation.
Run alone against a running server: `.venv/app/bin/python -m scripts.chat [--url http://localhost:5005]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid

from knowledge.text import clean


def send(rasa_url: str, sender: str, message: str, timeout: float = 60.0, payload: bool = False) -> list[dict]:
    """The bot's replies to typed text `message`, or with `payload` to a button's payload (`/ask_fee`)."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "payload" if payload else "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def show(replies: list[dict]) -> list[dict]:
    """Print the bot's replies and return every button of this turn, numbered on from one message to the next."""
    buttons: list[dict] = []
    for reply in replies:
        if reply.get("text"):
            print(f"\n🤖 {reply['text']}")
        for button in reply.get("buttons", []):
            buttons.append(button)
            print(f"   [{len(buttons)}] {button['title']}")
    if not replies:
        print("\n🤖 (không có trả lời)")
    return buttons


def chat(rasa_url: str) -> None:
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print("Trợ lý Một Cửa — gõ câu hỏi về thủ tục hành chính.")
    print("Gõ số để bấm nút, /restart để bắt đầu lại, Ctrl-D để thoát.")
    buttons: list[dict] = []
    while True:
        try:
            line = clean(input("\n👤 "))
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        pressed = line.isdigit() and 1 <= int(line) <= len(buttons)
        if pressed:
            line = buttons[int(line) - 1]["payload"]
        payload = pressed or line == "/restart"
        try:
            buttons = show(send(rasa_url, sender, line, payload=payload))
        except urllib.error.HTTPError as error:
            busy = "hệ thống đang khởi động lại, bạn gửi lại sau ít giây" if error.code == 503 else error.reason
            print(f"\n⚠️  Máy chủ Rasa trả lời {error.code}: {busy}", file=sys.stderr)
        except (urllib.error.URLError, TimeoutError) as error:
            print(f"\n⚠️  Không gửi được tới máy chủ Rasa ({rasa_url}): {error}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005", help="Rasa server URL")
    chat(parser.parse_args().url)


if __name__ == "__main__":
    main()
