import pytest
import torch

from engine.vgg import VGGFeatures, expected_shapes, layer_names, random_state_dict


@pytest.mark.parametrize("arch", ["vgg19", "vgg16"])
def test_layout_matches_torchvision(arch):
    models = pytest.importorskip("torchvision.models")
    theirs = getattr(models, arch)(weights=None).features
    reference = {f"features.{k}": tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert expected_shapes(arch) == reference
    kinds = {"Conv2d": "conv", "ReLU": "relu", "MaxPool2d": "pool"}
    assert [kinds[type(m).__name__] for m in theirs] == [n[:4] for n in layer_names(arch)]


def test_named_layers_and_truncation():
    net = VGGFeatures(random_state_dict("vgg19"), ["relu4_2", "relu1_1"])
    assert list(net.net.named_children())[-1][0] == "relu4_2"  # nothing deeper is kept
    out = net(torch.rand(1, 3, 64, 48))
    assert set(out) == {"relu1_1", "relu4_2"}
    assert out["relu4_2"].shape == (1, 512, 8, 6)
    assert not any(p.requires_grad for p in net.parameters())


def test_caffe_preprocessing_flips_to_bgr_and_scales_to_255():
    net = VGGFeatures(random_state_dict("vgg16"), ["conv1_1"], "vgg16", preprocessing="caffe")
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1.0
    x = (red - net.mean) * net.scale
    assert x[0, 0, 0, 0].item() == pytest.approx(255 - 123.68, abs=1e-3)  # red, before the flip
    assert net(red)["conv1_1"].shape == (1, 64, 4, 4)


def test_average_pooling_option():
    net = VGGFeatures(random_state_dict("vgg19"), ["relu2_1"], pooling="avg")
    assert any(isinstance(m, torch.nn.AvgPool2d) for m in net.net)
