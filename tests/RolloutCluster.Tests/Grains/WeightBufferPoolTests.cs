using RolloutCluster.Model.Weights;
using RolloutCluster.Data;
using RolloutCluster.Grains;
using RolloutCluster.Training.Engine;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Tests.Grains;

public sealed class WeightBufferPoolTests
{
    [Fact]
    public void A_released_buffer_is_rented_again_and_only_for_its_size()
    {
        var pool = new WeightBufferPool();
        var first = pool.Rent(1000);
        var array = first.Buffer;
        first.Release();
        Assert.NotSame(array, pool.Rent(999).Buffer);
        Assert.Same(array, pool.Rent(1000).Buffer);
        Assert.NotSame(array, pool.Rent(1000).Buffer);   // handed out once, not twice
    }

    [Fact]
    public void A_buffer_with_a_reader_goes_back_only_when_the_reader_is_done()
    {
        var pool = new WeightBufferPool();
        var buffer = pool.Rent(64);
        Assert.True(buffer.TryAcquire());    // a reader
        buffer.Release();                    // the owner drops the version
        Assert.NotSame(buffer.Buffer, pool.Rent(64).Buffer);
        buffer.Release();                    // the reader is done
        Assert.False(buffer.TryAcquire());   // gone: nobody may read it now
        Assert.Same(buffer.Buffer, pool.Rent(64).Buffer);
        Assert.Throws<InvalidOperationException>(buffer.Release);
    }

    [Fact]
    public void A_version_dropped_by_the_store_is_not_packed_over_while_leased()
    {
        var store = new PublishedWeights(new WeightBufferPool()).Open("job");
        using var policy = new Policy(TinyModels.Create(seed: 5), TinyModels.Tokenizer, PromptTemplate.R1Zero);
        store.Publish("job", 1, forgetBelow: 0, policy);
        var lease = store.Borrow(1)!;
        var before = lease.Buffer.ToArray();
        store.Publish("job", 2, forgetBelow: 2, policy);   // drops v1, still leased
        Assert.Null(store.Borrow(1));
        store.Publish("job", 3, forgetBelow: 3, policy);   // must not pack into v1's array
        Assert.Equal(before, lease.Buffer.ToArray());
        using (var v3 = store.Borrow(3)!) Assert.NotSame(lease.Buffer, v3.Buffer);
        var v1 = lease.Buffer;
        lease.Dispose();
        lease.Dispose();                                    // idempotent
        WeightBuffer v3Buffer;
        using (var v3 = store.Borrow(3)!) v3Buffer = v3.Buffer;
        store.Publish("job", 4, forgetBelow: 4, policy);   // v3 goes before v4 is packed, so v4 takes its buffer: one packed copy at a time
        using (var v4 = store.Borrow(4)!) Assert.Same(v3Buffer, v4.Buffer);
        store.Publish("job", 5, forgetBelow: 4, policy);   // v4 stays: v5 takes the spare, v1's array, free since its lease ended
        using var v5 = store.Borrow(5)!;
        Assert.Same(v1, v5.Buffer);
        Assert.Equal(store.Manifest(5)!.Checksum, v5.Buffer.Checksum());
    }

    [Fact]
    public void Forgetting_everything_drops_every_version_and_the_next_publish_still_serves()
    {
        var store = new PublishedWeights(new WeightBufferPool()).Open("job");
        using var policy = new Policy(TinyModels.Create(seed: 6), TinyModels.Tokenizer, PromptTemplate.R1Zero);
        store.Publish("job", 1, forgetBelow: 0, policy);
        store.Publish("job", 2, forgetBelow: 0, policy);
        store.ForgetAll();
        Assert.Null(store.Manifest(1));
        Assert.Null(store.Manifest(2));
        store.Publish("job", 3, forgetBelow: 3, policy);
        using var v3 = store.Borrow(3)!;
        Assert.Equal(store.Manifest(3)!.Checksum, v3.Buffer.Checksum());
    }
}
