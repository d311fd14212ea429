#!/usr/bin/python3
"""A real SMTP server for the notification tests (Debian's python3-aiosmtpd).

Run with Debian's interpreter (/usr/bin/python3): the machine's default
python3 may not see Debian's python3-* modules.

    /usr/bin/python3 tests/tools/smtp_sink.py PORT [FAIL_FIRST]

Listens on 127.0.0.1:PORT, prints "ready" once it accepts connections,
then one JSON line per message it accepted: {"from", "to": [...],
"data": <the message as text>}. The first FAIL_FIRST messages are refused
with "451 try again later" (a temporary failure the sender must retry);
each refusal prints {"refused": n}. Stops on SIGTERM or when stdin closes.
"""
import asyncio
import json
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, fail_first):
        self.fail_first = fail_first
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.fail_first:
            self.refused += 1
            print(json.dumps({"refused": self.refused}), flush=True)
            return "451 4.3.0 try again later"
        print(json.dumps({
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 OK"


def main():
    port = int(sys.argv[1])
    fail_first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    controller = Controller(Sink(fail_first), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.read(1) or (stop.done() or stop.set_result(None)))
    loop.run_until_complete(stop)
    controller.stop()


if __name__ == "__main__":
    main()
