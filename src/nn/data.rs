//! Small tabular data sets: rows of numeric features and a label, read from CSV.

use std::path::Path;

use super::io::{read_to_string, Error};
use crate::{Graph, Var};

/// Samples as rows of numbers, each with one label.
///
/// ```
/// use scalargrad::nn::Dataset;
/// let d = Dataset::from_csv("x1,x2,label\n0.5,1.5,-1\n2,3,1\n")?;
/// assert_eq!(d.inputs, vec![vec![0.5, 1.5], vec![2.0, 3.0]]);
/// assert_eq!(d.labels, vec![-1.0, 1.0]);
/// # Ok::<(), scalargrad::nn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// One row of features per sample.
    pub inputs: Vec<Vec<f64>>,
    /// One label per sample.
    pub labels: Vec<f64>,
}

impl Dataset {
    /// Parses comma-separated rows `x₁,…,xₙ,label`. A first line that does not parse as
    /// numbers is taken as a header; blank lines are skipped.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the line of a field that is not a number or not finite (`NaN`
    /// and `inf` parse as numbers, but a NaN feature makes every gradient NaN and an
    /// infinite one every loss infinite), or of a row whose length differs from the first
    /// row's, or if there is no row at all.
    ///
    /// ```
    /// use scalargrad::nn::Dataset;
    /// let err = Dataset::from_csv("a,b\n1,2\n3,x\n").unwrap_err();
    /// assert_eq!(err.to_string(), "line 3: field 2 is not a number: \"x\"");
    /// let err = Dataset::from_csv("1,2\n3,NaN\n").unwrap_err();
    /// assert_eq!(err.to_string(), "line 2: field 2 is not finite: \"NaN\"");
    /// ```
    pub fn from_csv(text: &str) -> Result<Self, Error> {
        let mut inputs = Vec::new();
        let mut labels = Vec::new();
        let mut width = None;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Result<Vec<f64>, usize> = line
                .split(',')
                .enumerate()
                .map(|(j, f)| f.trim().parse::<f64>().map_err(|_| j))
                .collect();
            let field = |j: usize| line.split(',').nth(j).unwrap_or("").trim().to_owned();
            let mut row = match fields {
                Ok(row) => row,
                Err(_) if i == 0 => continue, // header
                Err(j) => {
                    return Err(Error::Parse {
                        line: i + 1,
                        message: format!("field {} is not a number: {:?}", j + 1, field(j)),
                    })
                }
            };
            if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                return Err(Error::Parse {
                    line: i + 1,
                    message: format!("field {} is not finite: {:?}", j + 1, field(j)),
                });
            }
            if *width.get_or_insert(row.len()) != row.len() || row.len() < 2 {
                return Err(Error::Parse {
                    line: i + 1,
                    message: format!(
                        "{} fields, expected {} (features then a label)",
                        row.len(),
                        width.unwrap_or(0).max(2)
                    ),
                });
            }
            labels.push(row.pop().expect("a row has at least two fields"));
            inputs.push(row);
        }
        if inputs.is_empty() {
            return Err(Error::Parse {
                line: 1,
                message: "no data rows".into(),
            });
        }
        Ok(Dataset { inputs, labels })
    }

    /// Reads a CSV file (see [`Dataset::from_csv`]).
    ///
    /// # Errors
    /// [`Error::Io`] naming the path if it cannot be read, then as [`Dataset::from_csv`].
    ///
    /// ```
    /// use scalargrad::nn::Dataset;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/moons.csv");
    /// assert_eq!(Dataset::read_csv(path)?.len(), 100);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Self, Error> {
        Dataset::from_csv(&read_to_string(path.as_ref())?)
    }

    /// The number of samples.
    ///
    /// ```
    /// # use scalargrad::nn::Dataset;
    /// assert_eq!(Dataset::from_csv("1,2,0\n3,4,1")?.len(), 2);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no sample (never true for a parsed data set).
    ///
    /// ```
    /// # use scalargrad::nn::Dataset;
    /// assert!(Dataset { inputs: vec![], labels: vec![] }.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Every input row as [`Graph::constant`] nodes. Create them once, *before* the mark a
    /// training loop rewinds to, and every step reuses them.
    ///
    /// ```
    /// # use scalargrad::{nn::Dataset, Graph};
    /// let d = Dataset::from_csv("1,2,0\n3,4,1")?;
    /// let g = Graph::new();
    /// let x = d.constants(&g);
    /// assert_eq!((x[1][0].value(), x[1][0].is_tracked(), g.len()), (3.0, false, 4));
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn constants<'g>(&self, graph: &'g Graph) -> Vec<Vec<Var<'g>>> {
        self.inputs
            .iter()
            .map(|row| row.iter().map(|&v| graph.constant(v)).collect())
            .collect()
    }
}
