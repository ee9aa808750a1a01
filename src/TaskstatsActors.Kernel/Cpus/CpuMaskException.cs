namespace TaskstatsActors.Kernel.Cpus;

/// <summary>
/// A CPU list could not be parsed, does not fit the running kernel, names CPUs that are not
/// online, or the CPU topology could not be read from sysfs. The message is meant for operators
/// as is: it quotes the offending text or names the file.
/// </summary>
public sealed class CpuMaskException : Exception
{
    /// <summary>Creates the exception with an operator-facing message.</summary>
    public CpuMaskException(string message) : base(message) { }

    /// <summary>Creates the exception with an operator-facing message and its cause.</summary>
    public CpuMaskException(string message, Exception innerException) : base(message, innerException) { }
}
