namespace TaskstatsActors.Collector.Listening;

/// <summary>What a <see cref="ShardReceiver"/> tells its owner (the listener actor) from its receive loop.</summary>
public interface IReceiverObserver
{
    /// <summary>The socket is registered for the shard's CPUs; exits there reach it from now on.</summary>
    void Registered(int receiveBuffer);

    /// <summary>The socket reported <c>ENOBUFS</c>; <paramref name="lost"/> messages were dropped since the last report.</summary>
    void Overflowed(long lost, int receiveBuffer);

    /// <summary>A make-before-break socket replacement finished.</summary>
    void Replaced(int receiveBuffer);
}
