"""`--model.compile true`: training runs the compiled network, and checkpoints are those of the plain one."""

import torch
import torch._dynamo

from lit_math.model import Seq2SeqModule

from .helpers import tiny_data, tiny_model, trainer


def test_compiled_training_runs_through_dynamo_and_checkpoints_load_uncompiled(tmp_path, monkeypatch):
    compile_in_place = torch.nn.Module.compile
    # Inductor would spend a minute generating C++ here; the eager backend still traces every training forward.
    monkeypatch.setattr(torch.nn.Module, "compile", lambda net, **kw: compile_in_place(net, backend="eager", **kw))
    torch._dynamo.reset()
    traced = []
    data = tiny_data()
    module = tiny_model(data, compile=True)
    module.model.register_forward_hook(lambda net, inputs, output: traced.append(torch.compiler.is_compiling()))
    fit = trainer(tmp_path, max_steps=3, limit_val_batches=0, num_sanity_val_steps=0)
    fit.fit(module, data)
    assert traced and all(traced), traced  # each training forward ran inside the compiled frame
    fit.save_checkpoint(tmp_path / "compiled.ckpt")
    plain = Seq2SeqModule.load_from_checkpoint(tmp_path / "compiled.ckpt", compile=False)
    assert plain.model._compiled_call_impl is None
    for name, value in module.model.state_dict().items():
        assert torch.equal(plain.model.state_dict()[name], value), name  # same names, same weights


def test_compile_is_off_by_default():
    module = tiny_model(tiny_data())
    module.configure_model()
    assert module.hparams.compile is False and module.model._compiled_call_impl is None
