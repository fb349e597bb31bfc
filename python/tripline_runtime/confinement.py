"""The walls this worker puts up around itself before it reads any rule: resource limits, and a seccomp
filter that makes the kernel refuse new processes, sockets and other escapes. Both are kernel-enforced
and cannot be lifted afterwards, by this code or by a rule: no_new_privs is one-way, a seccomp filter can
only be made stricter, and a hard limit can only be lowered. The mount, network and PID namespaces come
from bubblewrap, which starts this process (see src/engine/python/sandbox.ts)."""

import ctypes
import errno
import platform
import resource
import signal

# struct sock_filter: u16 code, u8 jt, u8 jf, u32 k.
class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


# struct sock_fprog: u16 len, struct sock_filter *filter.
class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_IF_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K

_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO: the call fails with EPERM

# seccomp_data: int nr at offset 0, u32 arch at offset 4.
_OFFSET_NR = 0
_OFFSET_ARCH = 4

# Per architecture: its AUDIT_ARCH value, the first number of a foreign ABI on it (x32 on x86-64), and
# the calls refused: new processes and threads, sockets, and the calls that reach past the namespaces.
_ARCHITECTURES = {
    "x86_64": (
        0xC000003E,
        0x40000000,
        {
            "clone": 56,
            "fork": 57,
            "vfork": 58,
            "execve": 59,
            "execveat": 322,
            "clone3": 435,
            "socket": 41,
            "socketpair": 53,
            "connect": 42,
            "bind": 49,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "chroot": 161,
            "unshare": 272,
            "setns": 308,
            "bpf": 321,
            "perf_event_open": 298,
            "userfaultfd": 323,
            "keyctl": 250,
            "add_key": 248,
            "request_key": 249,
            "io_uring_setup": 425,
            "personality": 135,
        },
    ),
    "aarch64": (
        0xC00000B7,
        None,
        {
            "clone": 220,
            "execve": 221,
            "execveat": 281,
            "clone3": 435,
            "socket": 198,
            "socketpair": 199,
            "connect": 203,
            "bind": 200,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "chroot": 51,
            "unshare": 97,
            "setns": 268,
            "bpf": 280,
            "perf_event_open": 241,
            "userfaultfd": 282,
            "keyctl": 219,
            "add_key": 217,
            "request_key": 218,
            "io_uring_setup": 425,
            "personality": 92,
        },
    ),
}

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def _instruction(code, k, jt=0, jf=0):
    return _SockFilter(code, jt, jf, k)


def _filter_program(arch_value, foreign_abi_start, denied_numbers):
    program = [
        _instruction(_LOAD_WORD, _OFFSET_ARCH),
        # Another architecture's calls (32-bit compatibility) have other numbers: kill rather than guess.
        _instruction(_JUMP_IF_EQUAL, arch_value, jt=1, jf=0),
        _instruction(_RETURN, _KILL_PROCESS),
        _instruction(_LOAD_WORD, _OFFSET_NR),
    ]
    if foreign_abi_start is not None:
        program += [
            _instruction(_JUMP_IF_AT_LEAST, foreign_abi_start, jt=0, jf=1),
            _instruction(_RETURN, _KILL_PROCESS),
        ]
    for number in sorted(denied_numbers):
        program += [
            _instruction(_JUMP_IF_EQUAL, number, jt=0, jf=1),
            _instruction(_RETURN, _DENY),
        ]
    program.append(_instruction(_RETURN, _ALLOW))
    return program


def install_syscall_filter():
    """Refuses the process-, socket- and namespace-making calls from here on, in this process and any
    thread it could still make. Returns the names refused."""
    machine = platform.machine()
    if machine not in _ARCHITECTURES:
        raise OSError(f"no seccomp filter is defined for {machine}")
    arch_value, foreign_abi_start, calls = _ARCHITECTURES[machine]
    program = _filter_program(arch_value, foreign_abi_start, calls.values())
    instructions = (_SockFilter * len(program))(*program)
    fprog = _SockFprog(len(program), instructions)
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
    return sorted(calls)


def set_resource_limits(memory_bytes, open_files, file_bytes):
    """Hard limits: memory (address space), open files and the size of any file written. A rule past the
    memory limit gets MemoryError. Time is limited from Node (a deadline per request, then SIGKILL) and
    per rule call here (see timing.py): RLIMIT_CPU would count the worker's whole life."""
    for limit, value in (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_NOFILE, open_files),
        (resource.RLIMIT_FSIZE, file_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(limit, (value, value))
    # Writing past RLIMIT_FSIZE fails with EFBIG instead of ending the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
