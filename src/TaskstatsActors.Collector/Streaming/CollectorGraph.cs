using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Streaming;

/// <summary>One sink as the graph sees it: where to send, how much to buffer, what to do when full.</summary>
internal sealed record SinkBranch(IActorRef Sink, int Buffer, SinkOverflow Overflow, SinkFigures Figures);

/// <summary>
/// The stream: listeners (through one bounded channel) → broadcast → the aggregator, and → merged with
/// the aggregator's window summaries → broadcast → one buffered branch per sink. Every edge
/// backpressures, except a sink branch whose policy is <c>drop</c>.
/// </summary>
internal static class CollectorGraph
{
    public static IRunnableGraph<NotUsed> Build(ChannelReader<CollectorEvent> events, ChannelReader<CollectorEvent> summaries,
        IActorRef aggregator, IReadOnlyList<SinkBranch> sinks)
    {
        return RunnableGraph.FromGraph(GraphDsl.Create(builder =>
        {
            var toAggregator = builder.Add(new Broadcast<CollectorEvent>(2));
            var withSummaries = builder.Add(new Merge<CollectorEvent>(2));
            builder.From(ChannelSource.FromReader(events)).To(toAggregator);
            builder.From(toAggregator.Out(0))
                .Via(Flow.Create<CollectorEvent>().Buffer(16, OverflowStrategy.Backpressure))
                .To(AckSink(aggregator));
            builder.From(toAggregator.Out(1)).To(withSummaries.In(0));
            builder.From(ChannelSource.FromReader(summaries)).To(withSummaries.In(1));

            if (sinks.Count == 0)
            {
                builder.From(withSummaries.Out).To(Sink.Ignore<CollectorEvent>().MapMaterializedValue(_ => NotUsed.Instance));
                return ClosedShape.Instance;
            }
            var toSinks = builder.Add(new Broadcast<CollectorEvent>(sinks.Count));
            builder.From(withSummaries.Out).To(toSinks.In);
            for (var i = 0; i < sinks.Count; i++)
            {
                var sink = sinks[i];
                var buffer = sink.Overflow == SinkOverflow.Drop
                    ? Flow.FromGraph(new DroppingBuffer(sink.Buffer, sink.Figures.AddDropped))
                    : Flow.Create<CollectorEvent>().Buffer(sink.Buffer, OverflowStrategy.Backpressure);
                builder.From(toSinks.Out(i)).Via(buffer).To(AckSink(sink.Sink));
            }
            return ClosedShape.Instance;
        }));
    }

    // ActorRefWithAck keeps an input buffer of its own (16 by default); one element makes a sink's
    // configured buffer the real limit of what is held for it.
    private static Sink<CollectorEvent, NotUsed> AckSink(IActorRef actor) =>
        Sink.ActorRefWithAck<CollectorEvent>(actor, SinkProtocol.Init.Instance, SinkProtocol.Ack.Instance,
                SinkProtocol.Complete.Instance, cause => new SinkProtocol.Failed(cause))
            .WithAttributes(Attributes.CreateInputBuffer(1, 1));
}
