//! The main job: micrograd's demo, trained to 100%.
//!
//! An `MLP(2, [16, 16, 1])` of scalar neurons (ReLU, ReLU, linear) learns to separate the
//! two moons of `data/moons.csv`. Every step records the whole computation, 100 samples
//! through 337 parameters plus the loss, as one graph of scalar nodes (about 7,000 of
//! them), runs one reverse pass, and updates the parameters with SGD; then the step's
//! nodes are freed, so memory stays flat.
//!
//! Starting from micrograd's own initial weights (`data/moons_mlp_init.json`), the loss of
//! step 0 is micrograd's 0.8958441028683222 and that of step 99 its 0.010978370135492719.
//! At the end the example draws the decision boundary with the data points (SVG).
//!
//! Run: `cargo run --release --example moons [-- --steps N --random-init --seed S --out PATH]`
//! (the picture goes to `target/moons.svg` unless `--out` says otherwise; `docs/moons.svg`,
//! the one the README shows, is only rewritten by `--out docs/moons.svg`).

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use scalargrad::nn::moons::{self, Demo, Start, LOSS_STEP_0, LOSS_STEP_99};
use scalargrad::nn::{Dataset, MlpSpec};
use scalargrad::Graph;

/// micrograd's two-moons demo on scalargrad: MLP(2, [16, 16, 1]), hinge loss + L2, SGD.
#[derive(Parser, Debug)]
struct Args {
    /// Number of SGD steps, at most 112 (the learning rate 1 − 0.9·k/100 of step k turns
    /// negative at k = 112).
    #[arg(long, default_value_t = moons::STEPS, value_parser = moons::parse_steps)]
    steps: usize,
    /// Seed for --random-init.
    #[arg(long, default_value_t = 1337)]
    seed: u64,
    /// Start from random weights drawn from --seed instead of micrograd's init file.
    #[arg(long)]
    random_init: bool,
    /// Where to write the decision-boundary picture (SVG).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/moons.svg"))]
    out: PathBuf,
    /// Also write the trained network as a PyTorch `nn.Sequential` state dict (.safetensors).
    #[arg(long, value_name = "PATH")]
    safetensors: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let start = if args.random_init {
        Start::Random(args.seed)
    } else {
        Start::InitFile
    };

    // 1. The graph owns every node. The network's 337 parameters and the 200 input
    //    coordinates (constants) are created first: they live as long as the graph.
    let g = Graph::new();
    let mut demo = Demo::new(&g, start);
    println!("{}", demo.mlp());
    println!(
        "{} parameters, {} samples, start: {}",
        demo.mlp().parameters().len(),
        moons::dataset().len(),
        match start {
            Start::InitFile => "micrograd's data/moons_mlp_init.json".to_string(),
            Start::Random(seed) => format!("random weights from seed {seed}"),
        }
    );

    // 2. Train. Each `step` is one `nn::train_step`: mark the graph, zero the gradients,
    //    record the loss (hinge + 1e-4·L2), backward, SGD update, rewind to the mark.
    let bar = ProgressBar::new(args.steps as u64); // draws on stderr, only on a terminal
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} steps, loss {msg} [{elapsed_precise}]",
    )?);
    let nodes_between_steps = g.len();
    let timer = Instant::now();
    let mut steps = Vec::with_capacity(args.steps);
    for _ in 0..args.steps {
        let step = demo.step();
        bar.set_message(format!("{:.6}", step.loss));
        bar.inc(1);
        steps.push(step);
    }
    let elapsed = timer.elapsed();
    bar.finish_and_clear();
    assert_eq!(g.len(), nodes_between_steps, "the steps' nodes were freed");

    // 3. The loss curve's key points.
    println!("\n step        loss  accuracy     lr");
    for s in steps
        .iter()
        .filter(|s| s.k % 10 == 0 || s.k + 1 == args.steps)
    {
        println!(
            "{:5}  {:.8}  {:7.1}%  {:.3}",
            s.k,
            s.loss,
            100.0 * s.accuracy,
            s.learning_rate
        );
    }
    let (final_loss, final_accuracy) = demo.evaluate();
    println!(
        "after the last update: loss {final_loss:.8}, accuracy {:.1}%",
        100.0 * final_accuracy
    );
    if args.steps > 0 {
        println!(
            "{:.3} ms per step (forward + backward + update, graph rebuilt every step), {} \
             nodes kept between steps",
            elapsed.as_secs_f64() * 1e3 / args.steps as f64,
            nodes_between_steps
        );
    }

    // 4. Against micrograd, when this is its run.
    if start == Start::InitFile && args.steps >= 100 {
        let (l0, l99) = (steps[0].loss, steps[99].loss);
        println!(
            "\nstep 0:  {l0:.16}  micrograd {LOSS_STEP_0:.16}  rel. diff {:.1e}",
            rel(l0, LOSS_STEP_0)
        );
        println!(
            "step 99: {l99:.18}  micrograd {LOSS_STEP_99:.18}  rel. diff {:.1e}",
            rel(l99, LOSS_STEP_99)
        );
    }

    if let Some(path) = &args.safetensors {
        demo.mlp().save_safetensors(path)?;
        println!(
            "wrote {} (PyTorch nn.Sequential state dict)",
            path.display()
        );
    }

    // 5. The decision boundary: the trained network on a grid (numbers only, no graph),
    //    coloured by the sign of its score, with the data on top.
    let spec = demo.mlp().to_spec();
    let caption = format!(
        "MLP(2, [16, 16, 1]) after {} steps: accuracy {:.0}%",
        args.steps,
        100.0 * final_accuracy
    );
    draw(&args.out, &spec, &moons::dataset(), &caption)?;
    println!("\nwrote {}", args.out.display());
    Ok(())
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Draws the regions where the network's score is positive / negative, and the points.
fn draw(
    path: &PathBuf,
    spec: &MlpSpec,
    data: &Dataset,
    caption: &str,
) -> Result<(), Box<dyn Error>> {
    let (red, blue) = (RGBColor(205, 40, 40), RGBColor(35, 80, 200));
    let (light_red, light_blue) = (RGBColor(250, 215, 210), RGBColor(212, 225, 250));
    let bound = |i: usize| {
        let (lo, hi) = data
            .inputs
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), x| {
                (lo.min(x[i]), hi.max(x[i]))
            });
        (
            ((lo - 0.3) * 2.0).floor() / 2.0,
            ((hi + 0.3) * 2.0).ceil() / 2.0,
        )
    };
    let ((x0, x1), (y0, y1)) = (bound(0), bound(1));

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let root = SVGBackend::new(path, (720, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(40)
        .build_cartesian_2d(x0..x1, y0..y1)?;

    // One rectangle per run of same-sign cells in a grid row keeps the SVG small.
    let (nx, ny) = (240, 180);
    let (dx, dy) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    let mut cells = Vec::new();
    for j in 0..ny {
        let y = y0 + (j as f64 + 0.5) * dy;
        let positive: Vec<bool> = (0..nx)
            .map(|i| spec.predict(&[x0 + (i as f64 + 0.5) * dx, y])[0] > 0.0)
            .collect();
        let mut i = 0;
        while i < nx {
            let run = positive[i..]
                .iter()
                .take_while(|&&p| p == positive[i])
                .count();
            let corners = [
                (x0 + i as f64 * dx, y0 + j as f64 * dy),
                (x0 + (i + run) as f64 * dx, y0 + (j + 1) as f64 * dy),
            ];
            let colour = if positive[i] { light_red } else { light_blue };
            cells.push(Rectangle::new(corners, colour.filled()));
            i += run;
        }
    }
    chart.draw_series(cells)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .draw()?;

    for (label, colour, name) in [(1.0, red, "y = +1"), (-1.0, blue, "y = −1")] {
        let points = data
            .inputs
            .iter()
            .zip(&data.labels)
            .filter(move |(_, &y)| y == label)
            .map(|(x, _)| (x[0], x[1]));
        chart
            .draw_series(points.map(move |p| {
                EmptyElement::at(p)
                    + Circle::new((0, 0), 5, colour.filled())
                    + Circle::new((0, 0), 5, BLACK.stroke_width(1))
            }))?
            .label(name)
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
