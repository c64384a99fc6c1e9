//! Reads a `.safetensors` network (written by scalargrad or by PyTorch) into an `Mlp` and
//! prints its score on each of micrograd's 100 moons points, one `f64` per line at full
//! precision: what `interop/test_torch.py` compares with PyTorch's outputs.
//!
//! ```text
//! cargo run --release --example safetensors_check -- model.safetensors
//! cargo run --release --example safetensors_check -- model.safetensors relu,relu,linear
//! ```
//!
//! The second argument gives the activations when the file's metadata does not name them
//! (a plain `safetensors.torch.save_file(model.state_dict(), path)`); when it does, the two
//! must agree. A file that does not hold such a network (missing, extra or misshapen
//! tensors, `float32`, other activations) is reported and the program exits with status 1.

use scalargrad::nn::{moons, Activation, Mlp};
use scalargrad::Graph;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: safetensors_check PATH [ACTIVATIONS, e.g. relu,relu,linear]";
    let path = args.next().expect(usage);
    let activations: Option<Vec<Activation>> = args.next().map(|list| {
        list.split(',')
            .map(|a| match a {
                "linear" => Activation::Linear,
                "relu" => Activation::Relu,
                "sigmoid" => Activation::Sigmoid,
                "tanh" => Activation::Tanh,
                other => panic!("unknown activation {other:?}; {usage}"),
            })
            .collect()
    });
    let g = Graph::new();
    let loaded = match &activations {
        None => Mlp::load_safetensors(&g, &path),
        Some(a) => std::fs::read(&path)
            .map_err(scalargrad::nn::Error::from)
            .and_then(|bytes| Mlp::from_safetensors_as(&g, &bytes, a)),
    };
    let mlp = match loaded {
        Ok(mlp) => mlp,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("{path}: {mlp}");
    for x in &moons::dataset().inputs {
        println!("{:?}", mlp.predict(x)[0]);
    }
}
