//! The graphs the page offers, written in its little language ([`crate::parse`]).

/// Seed 003: apple 100 × count 2 × tax 1.1 = 220.
pub const APPLE: &str = "\
# seed 003: buying apples
apple = 100
count = 2
tax = 1.1
apple_price = apple * count
price = apple_price * tax
";

/// Seed 003: apples and oranges, summed, with tax: 715.
pub const APPLE_ORANGE: &str = "\
# seed 003: apples and oranges
apple = 100
apple_count = 2
orange = 150
orange_count = 3
tax = 1.1
apple_price = apple * apple_count
orange_price = orange * orange_count
all_price = apple_price + orange_price
price = all_price * tax
";

/// Seed 001: the 2-2-2 sigmoid network without biases and its cost ½Σ(y − t)².
pub const NETWORK: &str = "\
# seed 001: a 2-2-2 sigmoid network, no biases, cost = ½Σ(y − t)²
x1 = 2; x2 = 4
w1_11 = 0.7; w1_12 = 0.3
w1_21 = 0.2; w1_22 = 0.4
w2_11 = 0.1; w2_12 = 0.5
w2_21 = 0.8; w2_22 = 0.4
g1 = w1_11*x1 + w1_12*x2
g2 = w1_21*x1 + w1_22*x2
h1 = g1.sigmoid(); h2 = g2.sigmoid()
z1 = w2_11*h1 + w2_12*h2
z2 = w2_21*h1 + w2_22*h2
t1 = z1.sigmoid(); t2 = z2.sigmoid()
cost = 0.5 * ((0.8 - t1)**2 + (0.4 - t2)**2)
";

/// A typed expression in micrograd's style.
pub const EXPRESSION: &str = "\
a = 2; b = -3; c = 10; d = -2
(a*b + c).relu() * d
";

/// Every preset: key, title, program.
pub const ALL: [(&str, &str, &str); 4] = [
    ("apple", "Seed 003: apple (220)", APPLE),
    (
        "apple_orange",
        "Seed 003: apple + orange (715)",
        APPLE_ORANGE,
    ),
    ("network", "Seed 001: 2-2-2 sigmoid network", NETWORK),
    (
        "expression",
        "An expression: (a*b + c).relu() * d",
        EXPRESSION,
    ),
];
