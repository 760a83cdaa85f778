namespace RolloutCluster.Rewards.Sandbox;

/// <summary>
/// A seccomp-bpf program (classic BPF, as bubblewrap's --seccomp takes it) for sandboxed code on
/// x86-64: sockets other than AF_UNIX, ptrace, mounts, namespaces, keyrings, bpf, module loading,
/// kexec, io_uring and similar are refused with EPERM (clone3 with ENOSYS, so libc falls back to
/// clone, whose namespace flags are refused). Other architectures and the x32 ABI are killed.
/// </summary>
public static class SeccompFilter
{
    const uint AuditArchX8664 = 0xC000003E;
    const uint RetAllow = 0x7FFF0000;
    const uint RetKillProcess = 0x80000000;
    const uint RetErrno = 0x00050000;
    const uint Eperm = 1, Enosys = 38;
    const uint AfUnix = 1;
    const uint X32Bit = 0x40000000;

    // struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
    const uint OffsetNr = 0, OffsetArch = 4, OffsetArg0Low = 16;

    // Classic BPF opcodes.
    const ushort LdWAbs = 0x20, JeqK = 0x15, JgeK = 0x35, JsetK = 0x45, RetK = 0x06;

    /// <summary>Syscalls refused outright (x86-64 numbers).</summary>
    public static readonly IReadOnlyDictionary<string, uint> Denied = new Dictionary<string, uint>
    {
        ["connect"] = 42, ["accept"] = 43, ["bind"] = 49, ["listen"] = 50, ["accept4"] = 288,
        ["ptrace"] = 101, ["process_vm_readv"] = 310, ["process_vm_writev"] = 311,
        ["mount"] = 165, ["umount2"] = 166, ["pivot_root"] = 155, ["chroot"] = 161, ["swapon"] = 167, ["swapoff"] = 168,
        ["unshare"] = 272, ["setns"] = 308,
        ["keyctl"] = 250, ["add_key"] = 248, ["request_key"] = 249,
        ["bpf"] = 321, ["perf_event_open"] = 298, ["userfaultfd"] = 323,
        ["init_module"] = 175, ["finit_module"] = 313, ["delete_module"] = 176, ["kexec_load"] = 246, ["kexec_file_load"] = 320,
        ["reboot"] = 169, ["sethostname"] = 170, ["setdomainname"] = 171, ["iopl"] = 172, ["ioperm"] = 173,
        ["acct"] = 163, ["settimeofday"] = 164, ["clock_settime"] = 227, ["adjtimex"] = 159, ["syslog"] = 103,
        ["quotactl"] = 179, ["vhangup"] = 153, ["name_to_handle_at"] = 303, ["open_by_handle_at"] = 304,
        ["io_uring_setup"] = 425, ["io_uring_enter"] = 426, ["io_uring_register"] = 427,
        ["open_tree"] = 428, ["move_mount"] = 429, ["fsopen"] = 430, ["fsconfig"] = 431, ["fsmount"] = 432, ["fspick"] = 433,
        ["mount_setattr"] = 442, ["personality"] = 135,
    };

    const uint Socket = 41, Socketpair = 53, Clone = 56, Clone3 = 435;

    /// <summary>CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME.</summary>
    const uint CloneNamespaceFlags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;

    /// <summary>The filter as the bytes of a struct sock_filter array.</summary>
    public static byte[] Build()
    {
        var program = new List<(ushort Code, byte Jt, byte Jf, uint K)>
        {
            (LdWAbs, 0, 0, OffsetArch),
            (JeqK, 1, 0, AuditArchX8664),
            (RetK, 0, 0, RetKillProcess),
            (LdWAbs, 0, 0, OffsetNr),
            (JgeK, 0, 1, X32Bit),
            (RetK, 0, 0, RetKillProcess),
        };
        foreach (var nr in Denied.Values)
        {
            program.Add((JeqK, 0, 1, nr));
            program.Add((RetK, 0, 0, RetErrno | Eperm));
        }
        program.Add((JeqK, 0, 1, Clone3));
        program.Add((RetK, 0, 0, RetErrno | Enosys));
        // socket(domain, ...) and socketpair(domain, ...): only AF_UNIX.
        program.Add((JeqK, 1, 0, Socket));
        program.Add((JeqK, 0, 4, Socketpair));
        program.Add((LdWAbs, 0, 0, OffsetArg0Low));
        program.Add((JeqK, 1, 0, AfUnix));
        program.Add((RetK, 0, 0, RetErrno | Eperm));
        program.Add((RetK, 0, 0, RetAllow));
        // clone(flags, ...): no new namespaces.
        program.Add((JeqK, 0, 3, Clone));
        program.Add((LdWAbs, 0, 0, OffsetArg0Low));
        program.Add((JsetK, 0, 1, CloneNamespaceFlags));
        program.Add((RetK, 0, 0, RetErrno | Eperm));
        program.Add((RetK, 0, 0, RetAllow));

        var bytes = new byte[program.Count * 8];
        for (int i = 0; i < program.Count; i++)
        {
            var (code, jt, jf, k) = program[i];
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8, 2), code);
            bytes[i * 8 + 2] = jt;
            bytes[i * 8 + 3] = jf;
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8 + 4, 4), k);
        }
        return bytes;
    }
}
