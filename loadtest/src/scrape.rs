//! The servers' own queue depth, read from their Prometheus `/metrics` (the soak's
//! `--metrics-url`): `gateway_queued_bytes`, the bytes queued to connections and not yet
//! written, summed over shards and URLs. RSS from `/proc` says whether memory grows; this
//! says whether the part of it that is undelivered events grows.
//!
//! The text format is read line by line (name, optional labels, value), not through a
//! Prometheus crate: only one gauge is needed.

use std::time::Duration;

use anyhow::{bail, Context};

/// The gauge summed.
pub const QUEUED_BYTES: &str = "gateway_queued_bytes";

/// Sum of every sample of `metric` in a Prometheus text body; `None` when absent.
pub fn sum_metric(body: &str, metric: &str) -> Option<f64> {
    let mut found = None;
    for line in body.lines() {
        let Some(rest) = line.strip_prefix(metric) else {
            continue;
        };
        // `gateway_queued_bytes{shard="0"} 12` or `gateway_queued_bytes 12`, not a
        // longer name such as `gateway_queued_bytes_total`.
        let rest = match rest.chars().next() {
            Some('{') => rest.split_once('}').map_or("", |(_, v)| v),
            Some(' ') => rest,
            _ => continue,
        };
        if let Some(v) = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// Reads `/metrics` endpoints.
pub struct Scraper {
    http: reqwest::Client,
    urls: Vec<String>,
    token: Option<String>,
}

impl Scraper {
    /// A scraper of `urls` (loopback only), with a bearer token when the server wants one.
    pub fn new(urls: Vec<String>, token: Option<String>) -> anyhow::Result<Self> {
        for url in &urls {
            crate::scenarios::check_loopback_url(url, "--metrics-url")?;
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .context("HTTP client")?;
        Ok(Self { http, urls, token })
    }

    /// Whether there is anything to read.
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    async fn get(&self, url: &str) -> anyhow::Result<String> {
        let mut request = self.http.get(url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            bail!(
                "GET {url}: HTTP {} (a METRICS_TOKEN? pass --metrics-token)",
                response.status()
            );
        }
        response.text().await.with_context(|| format!("GET {url}"))
    }

    /// Every URL answers (the gauge itself may appear only once the gateway sampled it).
    pub async fn probe(&self) -> anyhow::Result<()> {
        for url in &self.urls {
            self.get(url).await?;
        }
        Ok(())
    }

    /// `gateway_queued_bytes` summed over every URL; an error names the URL that failed.
    pub async fn queued_bytes(&self) -> anyhow::Result<u64> {
        let mut total = 0.0;
        for url in &self.urls {
            let body = self.get(url).await?;
            total += sum_metric(&body, QUEUED_BYTES).with_context(|| {
                format!("{url} has no {QUEUED_BYTES} (not a gateway's /metrics?)")
            })?;
        }
        Ok(total.max(0.0).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_labelled_samples_and_ignores_longer_names() {
        let body = "# HELP gateway_queued_bytes bytes\n# TYPE gateway_queued_bytes gauge\n\
                    gateway_queued_bytes{shard=\"0\"} 1200\ngateway_queued_bytes{shard=\"1\"} 34\n\
                    gateway_queued_bytes_total 99\ngateway_connections{shard=\"0\"} 5\n";
        assert_eq!(sum_metric(body, QUEUED_BYTES), Some(1234.0));
        assert_eq!(
            sum_metric("gateway_queued_bytes 7\n", QUEUED_BYTES),
            Some(7.0)
        );
        assert_eq!(sum_metric("gateway_connections 5\n", QUEUED_BYTES), None);
    }
}
