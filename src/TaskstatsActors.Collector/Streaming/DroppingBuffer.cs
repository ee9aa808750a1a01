using Akka.Streams;
using Akka.Streams.Stage;
using TaskstatsActors.Collector.Events;

namespace TaskstatsActors.Collector.Streaming;

/// <summary>
/// A buffer for one sink whose policy is <c>drop</c>: it never backpressures. When full, an incoming
/// batch of records is dropped and its records counted; loss notices, restarts and window summaries
/// are small and rare, so they are always kept.
/// </summary>
internal sealed class DroppingBuffer(int capacity, Action<long> droppedRecords) : GraphStage<FlowShape<CollectorEvent, CollectorEvent>>
{
    private int Capacity { get; } = capacity;
    private Action<long> DroppedRecords { get; } = droppedRecords;

    private readonly Inlet<CollectorEvent> _in = new("DroppingBuffer.in");
    private readonly Outlet<CollectorEvent> _out = new("DroppingBuffer.out");

    public override FlowShape<CollectorEvent, CollectorEvent> Shape => new(_in, _out);

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : InAndOutGraphStageLogic
    {
        private readonly DroppingBuffer _stage;
        private readonly Queue<CollectorEvent> _queue = new();

        public Logic(DroppingBuffer stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage._in, this);
            SetHandler(stage._out, this);
        }

        public override void PreStart() => Pull(_stage._in);

        public override void OnPush()
        {
            var element = Grab(_stage._in);
            if (IsAvailable(_stage._out) && _queue.Count == 0)
                Push(_stage._out, element);
            else if (_queue.Count < _stage.Capacity || element is not ExitBatch)
                _queue.Enqueue(element);
            else
                _stage.DroppedRecords(((ExitBatch)element).RecordCount);
            Pull(_stage._in);
        }

        public override void OnPull()
        {
            if (_queue.Count > 0)
                Push(_stage._out, _queue.Dequeue());
            if (_queue.Count == 0 && IsClosed(_stage._in))
                CompleteStage();
        }

        public override void OnUpstreamFinish()
        {
            if (_queue.Count == 0)
                CompleteStage();
        }
    }
}
