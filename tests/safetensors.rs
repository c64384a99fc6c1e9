//! `.safetensors` files in PyTorch's `nn.Sequential` layout: round trips, the layout itself,
//! a file written by PyTorch (`tests/data/torch_mlp.safetensors`, made by
//! `interop/make_fixture.py`), and every way a file can fail to be the network asked for.
#![cfg(all(feature = "safetensors", feature = "serde"))]

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::Dtype;
use scalargrad::nn::moons::{self, Demo, Start};
use scalargrad::nn::safetensors::{from_bytes, load_parameters, save_parameters, to_bytes, Tensor};
use scalargrad::nn::{Activation, Error, LayerSpec, Mlp, MlpConfig, MlpSpec};
use scalargrad::Graph;

fn trained_moons() -> MlpSpec {
    let g = Graph::new();
    let mut demo = Demo::new(&g, Start::InitFile);
    for _ in 0..5 {
        demo.step();
    }
    demo.mlp().to_spec()
}

fn message(e: Error) -> String {
    assert!(matches!(e, Error::Tensors(_)), "{e:?}");
    e.to_string()
}

/// The file of the moons network, with one tensor replaced / removed / added.
fn edited(edit: impl FnOnce(&mut Vec<(String, Tensor)>)) -> Vec<u8> {
    let (tensors, metadata) = from_bytes(&trained_moons().to_safetensors().unwrap()).unwrap();
    let mut tensors: Vec<(String, Tensor)> = tensors.into_iter().collect();
    edit(&mut tensors);
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let meta: Vec<(&str, &str)> = metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    to_bytes(&refs, &meta).unwrap()
}

#[test]
fn round_trip_is_bit_exact() {
    let spec = trained_moons();
    let back = MlpSpec::from_safetensors(&spec.to_safetensors().unwrap()).unwrap();
    assert_eq!(back, spec); // PartialEq on f64: every weight equal
    let bits = |s: &MlpSpec| {
        s.parameters()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&back), bits(&spec));
    let g = Graph::new();
    let mlp = Mlp::from_safetensors(&g, &spec.to_safetensors().unwrap()).unwrap();
    for x in &moons::dataset().inputs {
        assert_eq!(mlp.predict(x)[0].to_bits(), spec.predict(x)[0].to_bits());
    }
}

/// PyTorch's layout: `I.weight` is `[out, in]` with row j = neuron j, `I.bias` is `[out]`,
/// indices 0, 2, 4 (a ReLU module after each hidden Linear), F64, and the metadata.
#[test]
fn layout_is_pytorch_sequential_state_dict() {
    let spec = trained_moons();
    let bytes = spec.to_safetensors().unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    );
    for (name, shape) in [
        ("0.weight", [16, 2]),
        ("2.weight", [16, 16]),
        ("4.weight", [1, 16]),
    ] {
        let t = file.tensor(name).unwrap();
        assert_eq!((t.dtype(), t.shape()), (Dtype::F64, &shape[..]), "{name}");
    }
    let w2 = file.tensor("2.weight").unwrap();
    // element [5, 7]: neuron 5 of layer 1, input 7, little-endian f64
    let at = (5 * 16 + 7) * 8;
    let value = f64::from_le_bytes(w2.data()[at..at + 8].try_into().unwrap());
    assert_eq!(value, spec.layers[1].weights[5][7]);
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!(meta["activations"], "relu,relu,linear");
    assert_eq!(meta["biases"], "true,true,true");
    assert_eq!(meta["format"], "pt");
}

/// A linear hidden layer has no activation module after it, so the next Linear is the
/// very next index: Linear(0) ReLU(1) Linear(2) Linear(3) Tanh(4) Linear(5) Sigmoid(6).
#[test]
fn module_indices_skip_only_real_activation_modules() {
    use Activation::*;
    let layer = |a, nin, nout, bias: bool| LayerSpec {
        activation: a,
        weights: (0..nout)
            .map(|j| (0..nin).map(|i| (i + 10 * j) as f64 * 0.01).collect())
            .collect(),
        biases: bias.then(|| vec![0.5; nout]),
    };
    let spec = MlpSpec {
        nin: 3,
        layers: vec![
            layer(Relu, 3, 4, true),
            layer(Linear, 4, 2, false),
            layer(Tanh, 2, 3, true),
            layer(Sigmoid, 3, 1, true),
        ],
    };
    let (tensors, meta) = from_bytes(&spec.to_safetensors().unwrap()).unwrap();
    let names: Vec<&str> = tensors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["0.bias", "0.weight", "2.weight", "3.bias", "3.weight", "5.bias", "5.weight"]
    );
    assert_eq!(meta["activations"], "relu,linear,tanh,sigmoid");
    assert_eq!(meta["biases"], "true,false,true,true");
    assert_eq!(
        MlpSpec::from_safetensors(&spec.to_safetensors().unwrap()).unwrap(),
        spec
    );
}

#[test]
fn mlp_save_and_load_through_a_file() {
    let g = Graph::new();
    let mlp = Mlp::new(
        &g,
        2,
        &[8, 8, 1],
        MlpConfig::new(11).hidden(Activation::Tanh),
    );
    let path = std::env::temp_dir().join(format!(
        "scalargrad-test-{}.safetensors",
        std::process::id()
    ));
    mlp.save_safetensors(&path).unwrap();
    let back = Mlp::load_safetensors(&g, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(back.to_string(), mlp.to_string());
    assert_eq!(back.parameter_values(), mlp.parameter_values());
}

#[test]
fn wrong_shape_is_an_error() {
    let bytes = edited(|ts| {
        let w = &mut ts.iter_mut().find(|(n, _)| n == "2.weight").unwrap().1;
        w.shape = vec![16, 8];
        w.values.truncate(16 * 8);
    });
    let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
    assert!(
        e.contains("tensor 2.weight has shape [16, 8], expected [16, 16]"),
        "{e}"
    );

    // transposed weights ([in, out]) are not silently read as [out, in]
    let bytes = edited(|ts| {
        ts.iter_mut()
            .find(|(n, _)| n == "0.weight")
            .unwrap()
            .1
            .shape = vec![2, 16];
    });
    let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
    // (read as 2 neurons of 16 inputs, its 16 biases do not fit)
    assert!(
        e.contains("tensor 0.bias has shape [16], expected [2]"),
        "{e}"
    );

    let bytes = edited(|ts| {
        ts.iter_mut().find(|(n, _)| n == "4.bias").unwrap().1 = Tensor {
            shape: vec![2],
            values: vec![0.0; 2],
        };
    });
    let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
    assert!(
        e.contains("tensor 4.bias has shape [2], expected [1]"),
        "{e}"
    );

    let bytes = edited(|ts| {
        ts.iter_mut()
            .find(|(n, _)| n == "4.weight")
            .unwrap()
            .1
            .shape = vec![16];
    });
    let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
    assert!(
        e.contains("tensor 4.weight has shape [16], expected [out, in]"),
        "{e}"
    );
}

#[test]
fn missing_tensor_is_an_error() {
    for name in ["2.bias", "4.weight", "0.weight"] {
        let bytes = edited(|ts| ts.retain(|(n, _)| n != name));
        let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
        assert!(
            e.contains(&format!("tensor {name}")) && e.contains("is missing"),
            "{e}"
        );
    }
}

#[test]
fn extra_tensor_is_an_error() {
    let bytes = edited(|ts| {
        ts.push((
            "6.weight".into(),
            Tensor {
                shape: vec![1, 1],
                values: vec![1.0],
            },
        ))
    });
    let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
    assert!(
        e.contains("tensors the network does not") && e.contains("6.weight"),
        "{e}"
    );
}

/// PyTorch's default dtype is float32: reading it as f64 would change every number.
#[test]
fn another_dtype_is_an_error() {
    let spec = trained_moons();
    let (tensors, _) = from_bytes(&spec.to_safetensors().unwrap()).unwrap();
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                t.shape.clone(),
                t.values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect(),
            )
        })
        .collect();
    let views = buffers.iter().map(|(n, s, b)| {
        (
            n.as_str(),
            TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
        )
    });
    let meta = HashMap::from([("activations".to_string(), "relu,relu,linear".to_string())]);
    let bytes = safetensors::serialize(views, Some(meta)).unwrap();
    let e = message(MlpSpec::from_safetensors(&bytes).unwrap_err());
    assert!(
        e.contains("dtype F32, not F64") && e.contains(".double()"),
        "{e}"
    );
}

#[test]
fn activations_mismatch_is_an_error() {
    use Activation::*;
    let bytes = trained_moons().to_safetensors().unwrap();
    let e = message(MlpSpec::from_safetensors_as(&bytes, &[Tanh, Tanh, Linear]).unwrap_err());
    assert!(
        e.contains("activations are [Relu, Relu, Linear], expected [Tanh, Tanh, Linear]"),
        "{e}"
    );
    // one layer fewer: also refused, not read as the first two layers
    let e = message(MlpSpec::from_safetensors_as(&bytes, &[Relu, Relu]).unwrap_err());
    assert!(e.contains("activations"), "{e}");
    assert!(MlpSpec::from_safetensors_as(&bytes, &[Relu, Relu, Linear]).is_ok());

    // a metadata with an unknown name, or no activations at all
    let (tensors, _) = from_bytes(&bytes).unwrap();
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let odd = to_bytes(&refs, &[("activations", "relu,gelu,linear")]).unwrap();
    let e = message(MlpSpec::from_safetensors(&odd).unwrap_err());
    assert!(e.contains("unknown activation \"gelu\""), "{e}");
    let bare = to_bytes(&refs, &[]).unwrap();
    let e = message(MlpSpec::from_safetensors(&bare).unwrap_err());
    assert!(e.contains("does not name the activations"), "{e}");
    // without metadata, the caller's activations decide (a plain PyTorch state dict)
    assert_eq!(
        MlpSpec::from_safetensors_as(&bare, &[Relu, Relu, Linear]).unwrap(),
        trained_moons()
    );
    // and with the wrong number of layers the extra Linear is reported
    let e = message(MlpSpec::from_safetensors_as(&bare, &[Relu, Relu]).unwrap_err());
    assert!(
        e.contains("tensors the network does not") && e.contains("4.weight"),
        "{e}"
    );
}

#[test]
fn not_a_tensor_file_is_an_error() {
    for bytes in [
        &b""[..],
        b"12345678",
        b"\x10\0\0\0\0\0\0\0{\"a\": 1}       ",
    ] {
        let e = message(MlpSpec::from_safetensors(bytes).unwrap_err());
        assert!(e.contains("not a valid safetensors file"), "{e}");
    }
    let g = Graph::new();
    let e = Mlp::load_safetensors(&g, "/nonexistent/dir/m.safetensors").unwrap_err();
    assert!(matches!(e, Error::Io(_)) && e.to_string().contains("/nonexistent/dir/m.safetensors"));
}

/// Named parameters: a mismatch sets nothing (no half-loaded model).
#[test]
fn named_parameters_load_all_or_nothing() {
    let g = Graph::new();
    let (w, b) = ([g.var(1.0), g.var(2.0)], [g.var(3.0)]);
    let path = std::env::temp_dir().join(format!(
        "scalargrad-named-{}.safetensors",
        std::process::id()
    ));
    save_parameters(&path, &[("w", &w), ("b", &b)]).unwrap();
    let (w2, b2) = ([g.var(0.0), g.var(0.0)], [g.var(0.0), g.var(0.0)]);
    let e = message(load_parameters(&path, &[("w", &w2), ("b", &b2)]).unwrap_err());
    assert!(e.contains("tensor b has shape [1], expected [2]"), "{e}");
    assert_eq!(w2[0].value(), 0.0, "w was not set although b did not fit");
    let e = message(load_parameters(&path, &[("w", &w2)]).unwrap_err());
    assert!(e.contains("tensors the network does not: [\"b\"]"), "{e}");
    load_parameters(&path, &[("b", &b2[..1]), ("w", &w2)]).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((w2[1].value(), b2[0].value()), (2.0, 3.0));
}

/// A file written by PyTorch (`interop/make_fixture.py`: `nn.Sequential(Linear(2, 16),
/// ReLU(), Linear(16, 16), ReLU(), Linear(16, 1)).double()` from `torch.manual_seed(0)`,
/// saved with `safetensors.torch.save_file`, no metadata) loads into an `Mlp` whose scores
/// on the 100 moons points are PyTorch's (saved beside it) to 1e-12.
#[test]
fn a_file_written_by_pytorch_loads_with_the_same_outputs() {
    use Activation::*;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let bytes = std::fs::read(format!("{dir}/torch_mlp.safetensors")).unwrap();
    let expected: Vec<f64> = std::fs::read_to_string(format!("{dir}/torch_mlp_outputs.txt"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let g = Graph::new();
    let mlp = Mlp::from_safetensors_as(&g, &bytes, &[Relu, Relu, Linear]).unwrap();
    assert_eq!(mlp.sizes(), [2, 16, 16, 1]);
    let data = moons::dataset();
    assert_eq!(expected.len(), data.len());
    for (x, want) in data.inputs.iter().zip(&expected) {
        let got = mlp.predict(x)[0];
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} vs PyTorch {want}"
        );
    }
    // PyTorch's file has no metadata, so it must be told the activations
    assert!(Mlp::from_safetensors(&g, &bytes).is_err());
}
