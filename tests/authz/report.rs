//! The verdicts of a matrix run: every row is run even when an earlier one failed, so
//! one run names every wrong answer, and the test fails at the end listing them all.

/// Passed rows and failure descriptions.
#[derive(Debug, Default)]
pub struct Report {
    /// Rows that answered as required.
    pub passed: usize,
    /// One line per failing row (or missing table entry).
    pub failures: Vec<String>,
}

impl Report {
    /// Records one row's verdict: `Ok` passes, `Err(why)` fails as `what: why`.
    pub fn record(&mut self, what: String, verdict: Result<(), String>) {
        match verdict {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("{what}: {why}")),
        }
    }

    /// Panics listing every failure, if any.
    pub fn finish(self, name: &str) {
        println!(
            "{name}: {} rows passed, {} failed",
            self.passed,
            self.failures.len()
        );
        assert!(
            self.failures.is_empty(),
            "{name}: {} failure(s):\n  {}",
            self.failures.len(),
            self.failures.join("\n  ")
        );
    }
}
