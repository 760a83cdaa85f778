using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Lora;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>LoRA adapters: what they change, what trains, PEFT's files, merging, and adapters that do not fit.</summary>
public sealed class LoraTests
{
    static readonly LoraConfig AllLinear = new(4, 8, 0, LoraConfig.Modules);

    static Tensor Logits(CausalLm model, string text = "Compute: 12 + 34")
    {
        using var noGrad = no_grad();
        var ids = tensor(TinyModels.Tokenizer.Encode(text).Select(x => (long)x).ToArray()).unsqueeze(0);
        return model.Forward(ids, arange(ids.shape[1], dtype: int64).unsqueeze(0));
    }

    static void RandomizeB(CausalLm model, int seed)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith(".B", StringComparison.Ordinal)))
            p.copy_(randn(p.shape, generator: new Generator((ulong)seed)) * 0.05);
    }

    [Fact]
    public void Fresh_adapters_leave_the_model_as_it_was_and_only_they_train()
    {
        using var model = TinyModels.Create(seed: 60);
        var before = Logits(model);
        long baseCount = model.parameters().Count();
        model.AttachLora(AllLinear, seed: 1);
        Assert.True(before.equal(Logits(model)).all().item<bool>());            // B = 0: exactly the base model
        var trainable = model.TrainableParameters().ToList();
        Assert.Equal(model.Config.NumHiddenLayers * 7 * 2, trainable.Count);   // layers x 7 projections x (A, B)
        Assert.All(model.named_parameters().Where(p => !CausalLm.IsLora(p.name)), p => Assert.False(p.parameter.requires_grad));
        Assert.Equal(baseCount + trainable.Count, model.parameters().Count());

        var ids = tensor(TinyModels.Tokenizer.Encode("abc").Select(x => (long)x).ToArray()).unsqueeze(0);
        model.Forward(ids, arange(3, dtype: int64).unsqueeze(0)).sum().backward();
        Assert.All(model.named_parameters().Where(p => !CausalLm.IsLora(p.name)), p => Assert.Null(p.parameter.grad));
        Assert.Contains(trainable, p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }

    [Theory]
    [InlineData("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")]
    [InlineData("k_proj,up_proj")]   // parts in the middle of fused projections, others left alone
    public void The_adapter_path_equals_the_merged_weights(string modules)
    {
        var targets = modules.Split(',');
        using var model = TinyModels.Create(seed: 61);
        model.AttachLora(new LoraConfig(3, 6, 0, targets), seed: 2);
        RandomizeB(model, 3);
        using var merged = TinyModels.Create(seed: 99);
        using (no_grad())
        {
            var weights = model.MergedParameters();
            foreach (var (name, p) in merged.named_parameters()) p.copy_(weights[name]);
        }
        var gap = (Logits(model) - Logits(merged)).abs().max().item<float>();
        Assert.True(gap < 5e-5, $"adapter path and merged weights differ by {gap}");   // float32 rounding: (x Aᵀ) Bᵀ against x (B A)ᵀ
        Assert.True((Logits(model) - Logits(TinyModels.Create(seed: 61))).abs().max().item<float>() > 1e-3);   // and the adapters do change the model
    }

    [Fact]
    public void Adapters_are_saved_as_peft_names_them_and_load_back_exactly()
    {
        using var model = TinyModels.Create(seed: 62);
        model.AttachLora(new LoraConfig(4, 16, 0.05, ["q_proj", "v_proj"], "tiny"), seed: 4);
        RandomizeB(model, 5);
        var dir = TinyModels.TempDir();
        model.SaveAdapter(dir);
        var file = SafeTensorsFile.Open(Path.Combine(dir, LoraConfig.WeightsFile));
        Assert.Equal(model.Config.NumHiddenLayers * 2 * 2, file.Entries.Count);
        Assert.Equal([4L, 64L], file.Entries["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape);
        Assert.Equal([32L, 4L], file.Entries["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"].Shape);   // 2 kv heads x 16
        var config = LoraConfig.Load(Path.Combine(dir, LoraConfig.ConfigFile));
        Assert.Equal((4, 16.0, 0.05, "tiny"), (config.Rank, config.Alpha, config.Dropout, config.BaseModel));
        Assert.Equal(["q_proj", "v_proj"], config.TargetModules);

        using var again = TinyModels.Create(seed: 62);
        again.AttachLora(config, seed: 77);
        again.LoadAdapter(dir);
        model.eval();   // dropout 0.05 acts in training mode only
        again.eval();
        Assert.True(Logits(model).equal(Logits(again)).all().item<bool>());
    }

    [Fact]
    public void An_adapter_for_another_base_model_is_refused_naming_the_tensor_and_both_shapes()
    {
        using var model = TinyModels.Create(seed: 63, kvHeads: 4);   // v_proj out = 4 heads x 16 = 64
        model.AttachLora(new LoraConfig(4, 8, 0, ["v_proj"], "tiny-kv4"), seed: 6);
        var dir = TinyModels.TempDir();
        model.SaveAdapter(dir);
        using var other = TinyModels.Create(seed: 63, kvHeads: 2);   // v_proj out = 32
        other.AttachLora(new LoraConfig(4, 8, 0, ["v_proj"]), seed: 6);
        var e = Assert.Throws<ModelFormatException>(() => other.LoadAdapter(dir));
        Assert.Contains("adapter_model.safetensors", e.Message);
        Assert.Matches(@"'base_model\.model\.model\.layers\.\d\.self_attn\.v_proj\.lora_B\.weight' has shape \[64, 4\] but this base model needs \[32, 4\]", e.Message);
        Assert.Contains("the adapter names base model 'tiny-kv4'", e.Message);
        var wrongRank = TinyModels.Create(seed: 63, kvHeads: 4);
        wrongRank.AttachLora(new LoraConfig(8, 8, 0, ["v_proj"]), seed: 6);
        Assert.Contains("rank 4 on v_proj, but the model's adapters are rank 8 on v_proj", Assert.Throws<ModelFormatException>(() => wrongRank.LoadAdapter(dir)).Message);
    }

    [Fact]
    public void Settings_peft_has_and_we_do_not_are_refused_by_name()
    {
        var dir = TinyModels.TempDir();
        var path = Path.Combine(dir, LoraConfig.ConfigFile);
        File.WriteAllText(path, """{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"], "use_dora": true}""");
        Assert.Contains("DoRA adapters are not supported", Assert.Throws<ModelFormatException>(() => LoraConfig.Load(path)).Message);
        File.WriteAllText(path, """{"peft_type": "PREFIX_TUNING"}""");
        Assert.Contains("only LORA adapters", Assert.Throws<ModelFormatException>(() => LoraConfig.Load(path)).Message);
        File.WriteAllText(path, """{"peft_type": "LORA", "r": 8, "target_modules": ["c_attn"]}""");
        Assert.Contains("unknown target module 'c_attn'; known: q_proj", Assert.Throws<ModelFormatException>(() => LoraConfig.Load(path)).Message);
        File.WriteAllText(path, """{"peft_type": "LORA", "r": 8, "target_modules": "all-linear"}""");
        Assert.Equal(LoraConfig.Modules, LoraConfig.Load(path).TargetModules);
    }

    [Fact]
    public void A_lora_checkpoint_is_the_merged_model_with_the_adapter_beside_it()
    {
        using var model = TinyModels.Create(seed: 64);
        model.AttachLora(AllLinear, seed: 7);
        RandomizeB(model, 8);
        var dir = TinyModels.TempDir();
        Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        var loaded = Checkpoint.Load(dir);
        Assert.Null(loaded.Model.Lora);
        Assert.True((Logits(model) - Logits(loaded.Model)).abs().max().item<float>() < 1e-5);
        Assert.True(File.Exists(Path.Combine(dir, Checkpoint.AdapterDirectory, LoraConfig.ConfigFile)));
    }

    [Fact]
    public void A_version_of_a_lora_model_is_its_adapters_and_a_replica_rebuilds_the_policy_from_base_plus_version()
    {
        using var model = TinyModels.Create(seed: 65);
        model.AttachLora(new LoraConfig(2, 4, 0, ["q_proj", "v_proj"]), seed: 9);
        RandomizeB(model, 10);
        var (baseBuffer, baseManifest) = WeightPack.Pack(model, name => !CausalLm.IsLora(name));
        var (buffer, manifest) = WeightPack.Pack(model, CausalLm.IsLora);
        Assert.All(manifest.Tensors, t => Assert.True(CausalLm.IsLora(t.Name)));
        Assert.True(manifest.TotalBytes < baseManifest.TotalBytes / 20);
        using var replica = new RolloutCluster.Training.Engine.PolicyReplica(model.Config, model.DType, model.Device, model.Lora);
        Assert.Throws<InvalidOperationException>(() => replica.Load(1, buffer, manifest));   // no base yet
        replica.LoadBase(baseBuffer, baseManifest);
        var loaded = replica.Load(1, buffer, manifest);
        Assert.True(Logits(model).equal(Logits(loaded)).all().item<bool>());
    }
}
