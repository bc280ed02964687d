//! The authorization matrix (issue 9): every API operation of the served OpenAPI
//! document and every gateway client event, tried as every kind of caller that
//! applies — no identity or a bad token, a non-member of a private or a public
//! channel, a member without the role, a user in a blocked DM — each row checking the
//! exact refusal of API.md / PROTOCOL.md (status and error code; close code; `ERROR`
//! code and echoed `id`) and that the database did not change.
//!
//! The tables are in `authz/api_routes.rs`, `authz/api.rs` and `authz/gateway.rs`. A route or an event
//! without a row fails the test, so a route added later must bring its rows.

mod common;

#[path = "authz/api.rs"]
mod api;
#[path = "authz/api_routes.rs"]
mod api_routes;
#[path = "authz/api_run.rs"]
mod api_run;
#[path = "authz/gateway.rs"]
mod gateway;
#[path = "authz/gateway_run.rs"]
mod gateway_run;
#[path = "authz/report.rs"]
mod report;
#[path = "authz/snapshot.rs"]
mod snapshot;
#[path = "authz/tokens.rs"]
mod tokens;
#[path = "authz/world.rs"]
mod world;

use protocol::ClientEvent;

use crate::report::Report;
use crate::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_refuses_every_caller_it_must() {
    let w = World::build().await;
    let routes = api::routes(&w);
    let rows = api::rows(&w);
    let mut report = Report::default();
    api_run::check_coverage(&w, &routes, &rows, &mut report).await;
    api_run::run(&w, &rows, &mut report).await;
    w.node.stack.shutdown().await;
    report.finish("API matrix");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_event_refuses_every_caller_it_must() {
    let w = World::build().await;
    let rows = gateway::rows(&w, ClientEvent::NAMES);
    let mut report = Report::default();
    check_event_coverage(&rows, &mut report);
    gateway_run::run(&w, &rows, &mut report).await;
    w.node.stack.shutdown().await;
    report.finish("gateway matrix");
}

/// Every client event needs a row beyond the generated "before IDENTIFY" one (that
/// one comes for free from the list); a row must not name an unknown event.
fn check_event_coverage(rows: &[gateway::Row], report: &mut Report) {
    let missing: Vec<&str> = ClientEvent::NAMES
        .iter()
        .copied()
        .filter(|name| {
            !rows.iter().any(|r| {
                r.event == *name
                    && !matches!(
                        (&r.caller, r.expect),
                        (gateway::Caller::Unidentified, gateway::Expect::Close(4003))
                    )
            })
        })
        .collect();
    report.record(
        "event coverage".into(),
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "client events without a row: {}",
                missing.join(", ")
            ))
        },
    );
    let unknown: Vec<&str> = rows
        .iter()
        .map(|r| r.event)
        .filter(|e| !ClientEvent::NAMES.contains(e))
        .collect();
    report.record(
        "event coverage".into(),
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!("rows for unknown events: {}", unknown.join(", ")))
        },
    );
}
