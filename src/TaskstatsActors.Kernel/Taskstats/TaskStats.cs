namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// One <c>struct taskstats</c> (include/uapi/linux/taskstats.h) as the kernel sent it. Property names
/// follow the kernel's field names. Only <see cref="Version"/> and the eight delay-accounting fields of
/// version 1 are in every version; every later field is nullable and is <c>null</c> when the sender's
/// struct version does not have it (never 0). Delay fields stay 0 unless delay accounting is on
/// (<c>kernel.task_delayacct</c>), except the CPU ones, which come from scheduler statistics.
/// </summary>
/// <remarks>
/// <see cref="TaskstatsLayout"/> maps each property to its kernel name, version and offset;
/// <see cref="TaskstatsDecoder"/>, <see cref="TaskstatsEncoder"/> and <see cref="TaskstatsJson"/> use it.
/// The setters are public so tests and fake kernels can build records.
/// </remarks>
public sealed class TaskStats
{
    /// <summary>Number of bytes of the payload this record was decoded from (0 for a record built in code).</summary>
    public int PayloadLength { get; set; }

    // ---- version 1 ----

    /// <summary><c>version</c>: the struct version the kernel filled in (<c>TASKSTATS_VERSION</c>).</summary>
    public ushort Version { get; set; }

    /// <summary><c>cpu_count</c>: number of CPU run-queue delays recorded.</summary>
    public ulong CpuCount { get; set; }

    /// <summary><c>cpu_delay_total</c>: time spent runnable but waiting for a CPU, in ns (wraps on overflow).</summary>
    public ulong CpuDelayTotal { get; set; }

    /// <summary><c>blkio_count</c>: number of synchronous block I/O delays recorded.</summary>
    public ulong BlkioCount { get; set; }

    /// <summary><c>blkio_delay_total</c>: time waiting for synchronous block I/O, in ns.</summary>
    public ulong BlkioDelayTotal { get; set; }

    /// <summary><c>swapin_count</c>: number of swap-in page fault delays recorded.</summary>
    public ulong SwapinCount { get; set; }

    /// <summary><c>swapin_delay_total</c>: time waiting for swap-in page faults, in ns.</summary>
    public ulong SwapinDelayTotal { get; set; }

    /// <summary><c>cpu_run_real_total</c>: CPU "wall-clock" running time, in ns.</summary>
    public ulong CpuRunRealTotal { get; set; }

    /// <summary><c>cpu_run_virtual_total</c>: CPU "virtual" running time as the kernel saw it, in ns.</summary>
    public ulong CpuRunVirtualTotal { get; set; }

    // ---- version 2: basic and extended accounting ----

    /// <summary>
    /// <c>ac_exitcode</c>: the task's exit code as the kernel keeps it, in <c>wait(2)</c> status form
    /// (exit status in bits 8–15, terminating signal in the low 7 bits): <c>exit(7)</c> gives 0x700.
    /// Only set for a thread-group leader.
    /// </summary>
    public uint? AcExitcode { get; set; }

    /// <summary><c>ac_flag</c>: accounting flags (<c>AFORK</c>, <c>ASU</c>, <c>ACOMPAT</c>, <c>ACORE</c>, <c>AXSIG</c>; <c>AGROUP</c> since v12).</summary>
    public byte? AcFlag { get; set; }

    /// <summary><c>ac_nice</c>: <c>task_nice()</c> stored in a <c>__u8</c> (a negative nice value wraps, e.g. -5 is 251).</summary>
    public byte? AcNice { get; set; }

    /// <summary><c>ac_comm</c>: command name, up to the first NUL of the 32-byte field (<c>TS_COMM_LEN</c>).</summary>
    public string? AcComm { get; set; }

    /// <summary><c>ac_sched</c>: scheduling policy (<c>task-&gt;policy</c>).</summary>
    public byte? AcSched { get; set; }

    /// <summary><c>ac_uid</c>: user id, as seen from the listener's user namespace.</summary>
    public uint? AcUid { get; set; }

    /// <summary><c>ac_gid</c>: group id, as seen from the listener's user namespace.</summary>
    public uint? AcGid { get; set; }

    /// <summary><c>ac_pid</c>: process (task) id, as seen from the listener's pid namespace.</summary>
    public uint? AcPid { get; set; }

    /// <summary><c>ac_ppid</c>: parent process id.</summary>
    public uint? AcPpid { get; set; }

    /// <summary><c>ac_btime</c>: begin time, in seconds since 1970 (32-bit; see <see cref="AcBtime64"/>).</summary>
    public uint? AcBtime { get; set; }

    /// <summary><c>ac_etime</c>: elapsed time, in µs.</summary>
    public ulong? AcEtime { get; set; }

    /// <summary><c>ac_utime</c>: user CPU time, in µs.</summary>
    public ulong? AcUtime { get; set; }

    /// <summary><c>ac_stime</c>: system CPU time, in µs.</summary>
    public ulong? AcStime { get; set; }

    /// <summary><c>ac_minflt</c>: minor page fault count.</summary>
    public ulong? AcMinflt { get; set; }

    /// <summary><c>ac_majflt</c>: major page fault count.</summary>
    public ulong? AcMajflt { get; set; }

    /// <summary><c>coremem</c>: accumulated RSS usage, in MB-µs.</summary>
    public ulong? Coremem { get; set; }

    /// <summary><c>virtmem</c>: accumulated virtual memory usage, in MB-µs.</summary>
    public ulong? Virtmem { get; set; }

    /// <summary><c>hiwater_rss</c>: high-water mark of RSS, in KB.</summary>
    public ulong? HiwaterRss { get; set; }

    /// <summary><c>hiwater_vm</c>: high-water mark of virtual memory, in KB.</summary>
    public ulong? HiwaterVm { get; set; }

    /// <summary><c>read_char</c>: bytes read through syscalls (the kernel rounds it down to a multiple of 1024).</summary>
    public ulong? ReadChar { get; set; }

    /// <summary><c>write_char</c>: bytes written through syscalls (rounded down to a multiple of 1024).</summary>
    public ulong? WriteChar { get; set; }

    /// <summary><c>read_syscalls</c>: read syscalls (rounded down to a multiple of 1024).</summary>
    public ulong? ReadSyscalls { get; set; }

    /// <summary><c>write_syscalls</c>: write syscalls (rounded down to a multiple of 1024).</summary>
    public ulong? WriteSyscalls { get; set; }

    // ---- version 3: storage I/O ----

    /// <summary><c>read_bytes</c>: bytes of storage read I/O.</summary>
    public ulong? ReadBytes { get; set; }

    /// <summary><c>write_bytes</c>: bytes of storage write I/O.</summary>
    public ulong? WriteBytes { get; set; }

    /// <summary><c>cancelled_write_bytes</c>: bytes of cancelled write I/O.</summary>
    public ulong? CancelledWriteBytes { get; set; }

    // ---- version 5: context switches ----

    /// <summary><c>nvcsw</c>: voluntary context switches.</summary>
    public ulong? Nvcsw { get; set; }

    /// <summary><c>nivcsw</c>: involuntary context switches.</summary>
    public ulong? Nivcsw { get; set; }

    // ---- version 6: scaled time ----

    /// <summary><c>ac_utimescaled</c>: user CPU time scaled by CPU frequency etc., in µs.</summary>
    public ulong? AcUtimescaled { get; set; }

    /// <summary><c>ac_stimescaled</c>: system CPU time scaled by CPU frequency etc., in µs.</summary>
    public ulong? AcStimescaled { get; set; }

    /// <summary><c>cpu_scaled_run_real_total</c>: scaled <see cref="CpuRunRealTotal"/>, in ns.</summary>
    public ulong? CpuScaledRunRealTotal { get; set; }

    // ---- version 7: memory reclaim ----

    /// <summary><c>freepages_count</c>: number of memory reclaim delays recorded.</summary>
    public ulong? FreepagesCount { get; set; }

    /// <summary><c>freepages_delay_total</c>: time waiting for memory reclaim, in ns.</summary>
    public ulong? FreepagesDelayTotal { get; set; }

    // ---- version 9: thrashing ----

    /// <summary><c>thrashing_count</c>: number of thrashing page delays recorded.</summary>
    public ulong? ThrashingCount { get; set; }

    /// <summary><c>thrashing_delay_total</c>: time waiting on thrashing pages, in ns.</summary>
    public ulong? ThrashingDelayTotal { get; set; }

    // ---- version 10 ----

    /// <summary><c>ac_btime64</c>: begin time, in seconds since 1970 (64-bit).</summary>
    public ulong? AcBtime64 { get; set; }

    // ---- version 11: compaction ----

    /// <summary><c>compact_count</c>: number of memory compaction delays recorded.</summary>
    public ulong? CompactCount { get; set; }

    /// <summary><c>compact_delay_total</c>: time waiting for memory compaction, in ns.</summary>
    public ulong? CompactDelayTotal { get; set; }

    // ---- version 12 ----

    /// <summary><c>ac_tgid</c>: thread group (process) id.</summary>
    public uint? AcTgid { get; set; }

    /// <summary><c>ac_tgetime</c>: thread group wall time so far, in µs (the whole process's when <c>AGROUP</c> is set).</summary>
    public ulong? AcTgetime { get; set; }

    /// <summary><c>ac_exe_dev</c>: device id of the program binary (0 for kernel threads).</summary>
    public ulong? AcExeDev { get; set; }

    /// <summary><c>ac_exe_inode</c>: inode number of the program binary (0 for kernel threads).</summary>
    public ulong? AcExeInode { get; set; }

    // ---- version 13: write-protect copy ----

    /// <summary><c>wpcopy_count</c>: number of write-protect copy delays recorded.</summary>
    public ulong? WpcopyCount { get; set; }

    /// <summary><c>wpcopy_delay_total</c>: time waiting for write-protect copy, in ns.</summary>
    public ulong? WpcopyDelayTotal { get; set; }

    // ---- version 14: IRQ ----

    /// <summary><c>irq_count</c>: number of IRQ/SOFTIRQ delays recorded.</summary>
    public ulong? IrqCount { get; set; }

    /// <summary><c>irq_delay_total</c>: time lost to IRQ/SOFTIRQ, in ns.</summary>
    public ulong? IrqDelayTotal { get; set; }

    // ---- version 15 (mid-struct), version 16 on (at the end): peaks ----

    /// <summary><c>cpu_delay_max</c>: longest single CPU delay, in ns.</summary>
    public ulong? CpuDelayMax { get; set; }

    /// <summary><c>cpu_delay_min</c>: shortest single CPU delay, in ns (0 when there was none: check the count).</summary>
    public ulong? CpuDelayMin { get; set; }

    /// <summary><c>blkio_delay_max</c>: longest single block I/O delay, in ns.</summary>
    public ulong? BlkioDelayMax { get; set; }

    /// <summary><c>blkio_delay_min</c>: shortest single block I/O delay, in ns.</summary>
    public ulong? BlkioDelayMin { get; set; }

    /// <summary><c>swapin_delay_max</c>: longest single swap-in delay, in ns.</summary>
    public ulong? SwapinDelayMax { get; set; }

    /// <summary><c>swapin_delay_min</c>: shortest single swap-in delay, in ns.</summary>
    public ulong? SwapinDelayMin { get; set; }

    /// <summary><c>freepages_delay_max</c>: longest single memory reclaim delay, in ns.</summary>
    public ulong? FreepagesDelayMax { get; set; }

    /// <summary><c>freepages_delay_min</c>: shortest single memory reclaim delay, in ns.</summary>
    public ulong? FreepagesDelayMin { get; set; }

    /// <summary><c>thrashing_delay_max</c>: longest single thrashing delay, in ns.</summary>
    public ulong? ThrashingDelayMax { get; set; }

    /// <summary><c>thrashing_delay_min</c>: shortest single thrashing delay, in ns.</summary>
    public ulong? ThrashingDelayMin { get; set; }

    /// <summary><c>compact_delay_max</c>: longest single compaction delay, in ns.</summary>
    public ulong? CompactDelayMax { get; set; }

    /// <summary><c>compact_delay_min</c>: shortest single compaction delay, in ns.</summary>
    public ulong? CompactDelayMin { get; set; }

    /// <summary><c>wpcopy_delay_max</c>: longest single write-protect copy delay, in ns.</summary>
    public ulong? WpcopyDelayMax { get; set; }

    /// <summary><c>wpcopy_delay_min</c>: shortest single write-protect copy delay, in ns.</summary>
    public ulong? WpcopyDelayMin { get; set; }

    /// <summary><c>irq_delay_max</c>: longest single IRQ delay, in ns.</summary>
    public ulong? IrqDelayMax { get; set; }

    /// <summary><c>irq_delay_min</c>: shortest single IRQ delay, in ns.</summary>
    public ulong? IrqDelayMin { get; set; }

    // ---- version 17: when each peak happened ----

    /// <summary><c>cpu_delay_max_ts</c>: when the longest CPU delay happened.</summary>
    public KernelTimespec? CpuDelayMaxTs { get; set; }

    /// <summary><c>blkio_delay_max_ts</c>: when the longest block I/O delay happened.</summary>
    public KernelTimespec? BlkioDelayMaxTs { get; set; }

    /// <summary><c>swapin_delay_max_ts</c>: when the longest swap-in delay happened.</summary>
    public KernelTimespec? SwapinDelayMaxTs { get; set; }

    /// <summary><c>freepages_delay_max_ts</c>: when the longest memory reclaim delay happened.</summary>
    public KernelTimespec? FreepagesDelayMaxTs { get; set; }

    /// <summary><c>thrashing_delay_max_ts</c>: when the longest thrashing delay happened.</summary>
    public KernelTimespec? ThrashingDelayMaxTs { get; set; }

    /// <summary><c>compact_delay_max_ts</c>: when the longest compaction delay happened.</summary>
    public KernelTimespec? CompactDelayMaxTs { get; set; }

    /// <summary><c>wpcopy_delay_max_ts</c>: when the longest write-protect copy delay happened.</summary>
    public KernelTimespec? WpcopyDelayMaxTs { get; set; }

    /// <summary><c>irq_delay_max_ts</c>: when the longest IRQ delay happened.</summary>
    public KernelTimespec? IrqDelayMaxTs { get; set; }
}

/// <summary>
/// A <c>struct __kernel_timespec</c> (two <c>__s64</c>: <c>tv_sec</c>, <c>tv_nsec</c>), as the kernel
/// recorded it; kept raw because the header does not promise which clock it was read from.
/// </summary>
/// <param name="Seconds"><c>tv_sec</c>.</param>
/// <param name="Nanoseconds"><c>tv_nsec</c>.</param>
public readonly record struct KernelTimespec(long Seconds, long Nanoseconds);
