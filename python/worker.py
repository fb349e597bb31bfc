"""A Python rule worker. Started by the Tripline service inside bubblewrap (no host files, no network, its
own PID namespace); before it reads a single rule it limits its own memory and files and installs a
seccomp filter against new processes and sockets. Then it answers framed JSON requests on stdin, on
stdout, until stdin closes.

Arguments: --memory-mb N (address space), --call-seconds S (per rule function call), --no-seccomp (only
where the kernel has no seccomp; the service says so in its log)."""

import argparse
import os
import sys

PROTOCOL = 1


def main():
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--memory-mb", type=int, default=1024)
    arguments.add_argument("--call-seconds", type=float, default=2.0)
    arguments.add_argument("--no-seccomp", action="store_true")
    options = arguments.parse_args()

    # The protocol keeps the real stdout; print() in a rule goes to stderr, which the service logs.
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    protocol_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    # Everything the worker itself needs is imported before the walls go up.
    import json  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
    import unittest.mock  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel

    from panther_detection_helpers import caching  # pylint: disable=import-outside-toplevel
    from tripline_runtime.confinement import install_syscall_filter, set_resource_limits  # pylint: disable=import-outside-toplevel
    from tripline_runtime.protocol import Channel  # pylint: disable=import-outside-toplevel
    from tripline_runtime.runtime import Runtime  # pylint: disable=import-outside-toplevel
    from tripline_runtime.stand_ins import StandInFinder  # pylint: disable=import-outside-toplevel
    from tripline_runtime.timing import CallClock  # pylint: disable=import-outside-toplevel

    try:
        import dateutil  # pylint: disable=import-outside-toplevel
        from dateutil import parser as _parser  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import

        dateutil_version = getattr(dateutil, "__version__", "unknown")
    except ImportError:
        dateutil_version = None

    channel = Channel(protocol_in, protocol_out)
    set_resource_limits(options.memory_mb * 1024 * 1024, open_files=64, file_bytes=1024 * 1024)
    denied = [] if options.no_seccomp else install_syscall_filter()
    sys.meta_path.append(StandInFinder())
    clock = CallClock(options.call_seconds)
    clock.install()
    runtime = Runtime(clock)

    def cache_bridge(operation, arguments):
        channel.send({"op": "cache", "operation": operation, "arguments": arguments})
        answer = channel.receive()
        if answer is None:
            raise SystemExit(0)
        if "error" in answer:
            raise RuntimeError(f"cache {operation}: {answer['error']}")
        return answer.get("value")

    caching._install_bridge(cache_bridge)  # pylint: disable=protected-access

    channel.send(
        {
            "op": "hello",
            "protocol": PROTOCOL,
            "python": sys.version.split()[0],
            "dateutil": dateutil_version,
            "deniedCalls": denied,
            "pid": os.getpid(),
        }
    )
    handlers = {
        "load": runtime.load,
        "evaluate": runtime.evaluate,
        "test": runtime.test,
        # The benchmark's floor: a request read and answered, nothing evaluated.
        "roundtrip": lambda message: {"matches": [], "errors": []},
    }
    while True:
        message = channel.receive()
        if message is None:
            return
        handler = handlers.get(message.get("op"))
        if handler is None:
            channel.send({"error": f"unknown request {message.get('op')!r}"})
            continue
        try:
            answer = handler(message)
        except MemoryError:
            answer = {"error": "MemoryError: the worker ran out of memory"}
        except BaseException as error:  # pylint: disable=broad-except
            # A time limit that fired between two calls, or anything else: an answer, not an exit.
            answer = {"error": f"{type(error).__name__}: {error}"}
        channel.send(answer)


if __name__ == "__main__":
    main()
