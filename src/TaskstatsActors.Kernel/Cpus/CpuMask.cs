using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace TaskstatsActors.Kernel.Cpus;

/// <summary>
/// An immutable set of CPU numbers, written in the kernel's list syntax (<c>0-3,5,7-8</c>): the
/// syntax of <c>/sys/devices/system/cpu/online</c> and of the string a taskstats listener
/// registers with <c>TASKSTATS_CMD_ATTR_REGISTER_CPUMASK</c>.
/// </summary>
public sealed class CpuMask : IEquatable<CpuMask>, IReadOnlyCollection<int>
{
    /// <summary>
    /// The largest CPU number a Linux kernel can have: x86-64 caps <c>NR_CPUS</c> at 8192
    /// (<c>NR_CPUS_RANGE_END</c> in arch/x86/Kconfig), and no mainline architecture allows more.
    /// Bounding it here also keeps a typo such as <c>0-99999999</c> from allocating a huge set;
    /// the running kernel's own, usually smaller, bound is checked by <see cref="ToKernelString()"/>.
    /// </summary>
    public const int MaxCpu = 8191;

    /// <summary>
    /// The fixed part of the kernel's limit on a registered mask string: kernel/taskstats.c
    /// defines <c>TASKSTATS_CPUMASK_MAXLEN</c> as <c>100 + 6 * NR_CPUS</c> and its <c>parse()</c>
    /// rejects a <c>REGISTER_CPUMASK</c>/<c>DEREGISTER_CPUMASK</c> attribute whose payload
    /// (<c>nla_len</c>, so including the terminating NUL) is longer, with <c>E2BIG</c>.
    /// </summary>
    private const int KernelMaskLengthBase = 100;

    /// <summary>The per-CPU part of <c>TASKSTATS_CPUMASK_MAXLEN</c>, see <see cref="KernelMaskLengthBase"/>.</summary>
    private const int KernelMaskLengthPerCpu = 6;

    // NR_CPUS is fixed when the kernel is built, so one read per process is enough.
    private static readonly Lazy<int> MachineKernelCpuCount =
        new(() => OnlineCpus.System.ReadKernelCpuCount(), LazyThreadSafetyMode.ExecutionAndPublication);

    // Bit i of word i / 64 is CPU i; no trailing zero words, so equal sets have equal arrays.
    private readonly ulong[] _words;

    private CpuMask(ulong[] words)
    {
        var length = words.Length;
        while (length > 0 && words[length - 1] == 0)
            length--;
        _words = length == words.Length ? words : words[..length];
        var count = 0;
        foreach (var word in _words)
            count += BitOperations.PopCount(word);
        Count = count;
    }

    /// <summary>The set with no CPU in it.</summary>
    public static CpuMask Empty { get; } = new([]);

    /// <summary>How many CPUs the set holds.</summary>
    public int Count { get; }

    /// <summary>True when the set holds no CPU.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>The highest CPU in the set.</summary>
    /// <exception cref="InvalidOperationException">The set is empty.</exception>
    public int Max => IsEmpty
        ? throw new InvalidOperationException("an empty cpu mask has no highest cpu")
        : (_words.Length - 1) * 64 + 63 - BitOperations.LeadingZeroCount(_words[^1]);

    /// <summary>
    /// Parses the kernel list syntax: comma-separated CPU numbers and inclusive ranges
    /// <c>a-b</c>, whitespace around items and a trailing newline (as sysfs writes) tolerated.
    /// </summary>
    /// <exception cref="CpuMaskException">The text is empty or not a valid list; the message says why.</exception>
    public static CpuMask Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var error = TryParseCore(text, out var mask);
        return error is null ? mask! : throw new CpuMaskException(error);
    }

    /// <summary>Like <see cref="Parse"/>, but returns false instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out CpuMask? mask)
    {
        mask = null;
        return text is not null && TryParseCore(text, out mask) is null;
    }

    /// <summary>The set of the given CPUs; duplicates are fine.</summary>
    /// <exception cref="CpuMaskException">A CPU is negative or above <see cref="MaxCpu"/>.</exception>
    public static CpuMask Of(IEnumerable<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        var words = new List<ulong>();
        foreach (var cpu in cpus)
        {
            CheckCpu(cpu);
            var index = cpu >> 6;
            while (words.Count <= index)
                words.Add(0);
            words[index] |= 1UL << (cpu & 63);
        }
        return new CpuMask([.. words]);
    }

    /// <summary>The set of one CPU.</summary>
    /// <exception cref="CpuMaskException">The CPU is negative or above <see cref="MaxCpu"/>.</exception>
    public static CpuMask Single(int cpu)
    {
        CheckCpu(cpu);
        return Range(cpu, cpu);
    }

    /// <summary>The set of CPUs <paramref name="first"/> to <paramref name="last"/> inclusive.</summary>
    /// <exception cref="CpuMaskException">A bound is out of range, or <paramref name="first"/> &gt; <paramref name="last"/>.</exception>
    public static CpuMask Range(int first, int last)
    {
        CheckCpu(first);
        CheckCpu(last);
        if (first > last)
            throw new CpuMaskException($"cpu range {first}-{last} is reversed ({first} > {last})");
        var words = new ulong[(last >> 6) + 1];
        SetRange(words, first, last);
        return new CpuMask(words);
    }

    /// <summary>True when <paramref name="cpu"/> is in the set.</summary>
    public bool Contains(int cpu)
    {
        if (cpu < 0)
            return false;
        var index = cpu >> 6;
        return index < _words.Length && (_words[index] & (1UL << (cpu & 63))) != 0;
    }

    /// <summary>True when the two sets share at least one CPU.</summary>
    public bool Overlaps(CpuMask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var length = Math.Min(_words.Length, other._words.Length);
        for (var i = 0; i < length; i++)
        {
            if ((_words[i] & other._words[i]) != 0)
                return true;
        }
        return false;
    }

    /// <summary>True when every CPU of this set is also in <paramref name="other"/>.</summary>
    public bool IsSubsetOf(CpuMask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (_words.Length > other._words.Length)
            return false;
        for (var i = 0; i < _words.Length; i++)
        {
            if ((_words[i] & ~other._words[i]) != 0)
                return false;
        }
        return true;
    }

    /// <summary>The CPUs in both sets.</summary>
    public CpuMask Intersect(CpuMask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var words = new ulong[Math.Min(_words.Length, other._words.Length)];
        for (var i = 0; i < words.Length; i++)
            words[i] = _words[i] & other._words[i];
        return new CpuMask(words);
    }

    /// <summary>The CPUs of this set that are not in <paramref name="other"/>.</summary>
    public CpuMask Except(CpuMask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var words = (ulong[])_words.Clone();
        var length = Math.Min(words.Length, other._words.Length);
        for (var i = 0; i < length; i++)
            words[i] &= ~other._words[i];
        return new CpuMask(words);
    }

    /// <summary>The CPUs in either set.</summary>
    public CpuMask Union(CpuMask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var (longer, shorter) = _words.Length >= other._words.Length ? (_words, other._words) : (other._words, _words);
        var words = (ulong[])longer.Clone();
        for (var i = 0; i < shorter.Length; i++)
            words[i] |= shorter[i];
        return new CpuMask(words);
    }

    /// <summary>
    /// Checks that the set is not empty and that every CPU in it is online. Registering an
    /// offline CPU is accepted by the kernel but would never deliver a record, which is a
    /// configuration mistake the operator wants to hear about.
    /// </summary>
    /// <exception cref="CpuMaskException">
    /// The set is empty, or names CPUs that are not online:
    /// <c>cpu 9 is not online (online: 0-1)</c>, <c>cpus 8-9 are not online (online: 0-1)</c>.
    /// </exception>
    public void Validate(CpuMask online)
    {
        ArgumentNullException.ThrowIfNull(online);
        if (IsEmpty)
            throw new CpuMaskException("cpu mask is empty");
        var offline = Except(online);
        if (offline.IsEmpty)
            return;
        var shown = online.IsEmpty ? "none" : online.ToString();
        throw new CpuMaskException(offline.Count == 1
            ? $"cpu {offline} is not online (online: {shown})"
            : $"cpus {offline} are not online (online: {shown})");
    }

    /// <summary>
    /// The string to register with <c>TASKSTATS_CMD_ATTR_REGISTER_CPUMASK</c> on this machine,
    /// checked against this kernel's <c>NR_CPUS</c> (see <see cref="ToKernelString(int)"/>).
    /// </summary>
    /// <exception cref="CpuMaskException">The kernel would reject the mask, or sysfs cannot be read.</exception>
    public string ToKernelString() => ToKernelString(MachineKernelCpuCount.Value);

    /// <summary>
    /// The canonical list string for a kernel built with <paramref name="nrCpus"/> as
    /// <c>NR_CPUS</c>. The netlink layer must send it NUL-terminated: the kernel copies the
    /// attribute with <c>nla_strscpy</c> into a buffer of the attribute's length, so without
    /// the NUL the last character would be cut off.
    /// </summary>
    /// <exception cref="CpuMaskException">
    /// The set is empty (the kernel would register nothing), holds a CPU that the kernel's
    /// bitmaps cannot hold, or its string exceeds <c>TASKSTATS_CPUMASK_MAXLEN</c>.
    /// </exception>
    public string ToKernelString(int nrCpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        if (IsEmpty)
            throw new CpuMaskException("cpu mask is empty: the kernel would register it for no cpu");
        if (Max >= nrCpus)
        {
            var beyond = Except(Range(0, nrCpus - 1));
            var supported = nrCpus == 1 ? "cpu 0" : $"cpus 0-{nrCpus - 1}";
            throw new CpuMaskException(beyond.Count == 1
                ? $"cpu {beyond} is too large for this kernel (NR_CPUS = {nrCpus}: {supported})"
                : $"cpus {beyond} are too large for this kernel (NR_CPUS = {nrCpus}: {supported})");
        }
        var text = ToString();
        CheckKernelLength(text, nrCpus);
        return text;
    }

    /// <summary>
    /// The longest attribute payload, NUL included, that the kernel accepts as a registered mask
    /// on a kernel built with <paramref name="nrCpus"/> as <c>NR_CPUS</c>.
    /// </summary>
    public static int KernelMaskMaxPayload(int nrCpus) => KernelMaskLengthBase + KernelMaskLengthPerCpu * nrCpus;

    // Separate from ToKernelString because a canonical string of CPUs below NR_CPUS never
    // reaches the limit (at most 6 characters per CPU); kept so that a change in formatting
    // can never send the kernel something it answers with a bare E2BIG.
    internal static void CheckKernelLength(string text, int nrCpus)
    {
        var payload = Encoding.ASCII.GetByteCount(text) + 1;
        var limit = KernelMaskMaxPayload(nrCpus);
        if (payload > limit)
            throw new CpuMaskException(
                $"cpu mask string is {payload - 1} characters, longer than the kernel accepts: at most {limit - 1} " +
                $"(TASKSTATS_CPUMASK_MAXLEN = 100 + 6 * NR_CPUS = {limit} bytes with the terminating NUL, NR_CPUS = {nrCpus})");
    }

    /// <summary>The canonical list: ascending, consecutive CPUs as ranges (<c>0-3,5,7-8</c>); empty for the empty set.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        var runStart = -1;
        var previous = -2;
        foreach (var cpu in this)
        {
            if (cpu != previous + 1)
            {
                AppendRun(builder, runStart, previous);
                runStart = cpu;
            }
            previous = cpu;
        }
        AppendRun(builder, runStart, previous);
        return builder.ToString();
    }

    /// <summary>Enumerates the CPUs in ascending order.</summary>
    public IEnumerator<int> GetEnumerator()
    {
        for (var i = 0; i < _words.Length; i++)
        {
            var word = _words[i];
            while (word != 0)
            {
                yield return i * 64 + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public bool Equals(CpuMask? other) =>
        other is not null && (ReferenceEquals(this, other) || _words.AsSpan().SequenceEqual(other._words));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as CpuMask);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var word in _words)
            hash.Add(word);
        return hash.ToHashCode();
    }

    /// <summary>Set equality.</summary>
    public static bool operator ==(CpuMask? left, CpuMask? right) => left?.Equals(right) ?? right is null;

    /// <summary>Set inequality.</summary>
    public static bool operator !=(CpuMask? left, CpuMask? right) => !(left == right);

    private static void AppendRun(StringBuilder builder, int first, int last)
    {
        if (first < 0)
            return;
        if (builder.Length > 0)
            builder.Append(',');
        builder.Append(first.ToString(CultureInfo.InvariantCulture));
        if (last > first)
            builder.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
    }

    private static void CheckCpu(int cpu)
    {
        if (cpu < 0)
            throw new CpuMaskException($"cpu {cpu} is negative");
        if (cpu > MaxCpu)
            throw new CpuMaskException(TooLarge(cpu.ToString(CultureInfo.InvariantCulture)));
    }

    private static string TooLarge(string cpu) =>
        $"cpu {cpu} is too large: no Linux kernel has more than {MaxCpu + 1} cpus (0-{MaxCpu})";

    private static void SetRange(ulong[] words, int first, int last)
    {
        for (var cpu = first; cpu <= last;)
        {
            var bit = cpu & 63;
            var span = Math.Min(64 - bit, last - cpu + 1);
            var bits = span == 64 ? ulong.MaxValue : ((1UL << span) - 1) << bit;
            words[cpu >> 6] |= bits;
            cpu += span;
        }
    }

    // Returns null on success, else the operator-facing message, so that TryParse costs no exception.
    private static string? TryParseCore(string text, out CpuMask? mask)
    {
        mask = null;
        var list = text.Trim();
        if (list.Length == 0)
            return "cpu list is empty";
        string Invalid(string why) => $"invalid cpu list \"{list}\": {why}";

        var ranges = new List<(int First, int Last)>();
        var items = list.Split(',');
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i].Trim();
            if (item.Length == 0)
                return Invalid($"item {i + 1} is empty");
            // Kernel lists have no negative numbers, but "-1" is a likely typo worth naming.
            if (item[0] == '-')
                return Invalid(Negative(item, item));
            var dash = item.IndexOf('-');
            var firstText = dash < 0 ? item : item[..dash].TrimEnd();
            var lastText = dash < 0 ? item : item[(dash + 1)..].TrimStart();
            if (lastText.StartsWith('-'))
                return Invalid(Negative(item, lastText));
            var firstKind = ParseNumber(firstText, out var first);
            var lastKind = ParseNumber(lastText, out var last);
            if (firstKind == NumberKind.NotANumber || lastKind == NumberKind.NotANumber)
                return Invalid($"\"{item}\" is not a cpu number or range");
            if (firstKind == NumberKind.TooLarge)
                return Invalid(TooLarge(firstText));
            if (lastKind == NumberKind.TooLarge)
                return Invalid(TooLarge(lastText));
            if (first > last)
                return Invalid($"range \"{item}\" is reversed ({first} > {last})");
            ranges.Add((first, last));
        }

        var highest = 0;
        foreach (var (_, last) in ranges)
            highest = Math.Max(highest, last);
        var words = new ulong[(highest >> 6) + 1];
        foreach (var (first, last) in ranges)
            SetRange(words, first, last);
        mask = new CpuMask(words);
        return null;
    }

    // The message for an item that has a minus sign where a number starts: names the negative
    // number when one follows ("-5-3" → cpu -5), else calls the item malformed.
    private static string Negative(string item, string signed)
    {
        var rest = signed[1..].TrimStart();
        var dash = rest.IndexOf('-');
        var number = dash < 0 ? rest : rest[..dash].TrimEnd();
        return ParseNumber(number, out _) == NumberKind.NotANumber
            ? $"\"{item}\" is not a cpu number or range"
            : $"cpu -{number} is negative";
    }

    private static NumberKind ParseNumber(string text, out int value)
    {
        value = 0;
        if (text.Length == 0)
            return NumberKind.NotANumber;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
                return NumberKind.NotANumber;
        }
        // All digits: anything that does not fit, or exceeds MaxCpu, is merely too large.
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value > MaxCpu)
            return NumberKind.TooLarge;
        return NumberKind.Number;
    }

    private enum NumberKind
    {
        Number,
        NotANumber,
        TooLarge,
    }
}
