//! Shared by the benchmarks: a realistic Shopify order and percentiles.

#![allow(dead_code, reason = "each benchmark uses part of this module")]

use serde_json::{Value, json};

/// A realistic `orders/create` payload of about 4 KB (the REST shape
/// Shopify sends: customer, addresses, client details, line items,
/// shipping lines, transactions).
pub(crate) fn order_payload(i: u64, what: &str) -> Value {
    let address = |kind: &str| {
        json!({
            "first_name": "Ann", "last_name": "Lindqvist", "name": "Ann Lindqvist",
            "address1": format!("{} Birch Lane", 10 + i % 90), "address2": "Apt 4",
            "city": "Springfield", "province": "Oregon", "province_code": "OR",
            "country": "United States", "country_code": "US", "zip": "97477",
            "phone": "+1 555-010-0199", "company": null, "latitude": 44.0462, "longitude": -123.022,
            "kind": kind
        })
    };
    let line_items: Vec<Value> = (0..4)
        .map(|n| {
            json!({
                "id": 13_000_000_000u64 + i * 10 + n, "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", 13_000_000_000u64 + i * 10 + n),
                "variant_id": 44_000_000_000u64 + n, "product_id": 8_000_000_000u64 + n,
                "title": format!("Merino Wool Sweater {n}"), "variant_title": "M / Navy", "sku": format!("MWS-{n}-M-NVY"),
                "vendor": "Northwind Apparel", "quantity": 1 + n % 2, "price": "89.00", "total_discount": "0.00",
                "fulfillment_status": null, "requires_shipping": true, "taxable": true, "gift_card": false,
                "grams": 450, "properties": [], "tax_lines": [{"title": "State Tax", "price": "6.23", "rate": 0.07}]
            })
        })
        .collect();
    json!({
        "id": 5_834_211_000_000u64 + i,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", 5_834_211_000_000u64 + i),
        "name": format!("#{}", 1000 + i), "order_number": 1000 + i,
        "email": "ann.lindqvist@example.com", "contact_email": "ann.lindqvist@example.com", "phone": "+1 555-010-0199",
        "created_at": "2026-11-26T10:22:31-05:00", "updated_at": "2026-11-26T10:22:33-05:00",
        "processed_at": "2026-11-26T10:22:31-05:00", "currency": "USD", "presentment_currency": "USD",
        "total_price": "379.12", "subtotal_price": "356.00", "current_total_price": "379.12",
        "total_tax": "23.12", "total_discounts": "0.00", "total_outstanding": "0.00",
        "financial_status": "paid", "fulfillment_status": null, "cancel_reason": null, "cancelled_at": null,
        "browser_ip": "203.0.113.77",
        "client_details": {"browser_ip": "203.0.113.77", "accept_language": "en-US,en;q=0.9",
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"},
        "payment_gateway_names": ["shopify_payments"], "note": null,
        "note_attributes": [{"name": "gift", "value": "no"}], "tags": format!("do:{what}"), "test": false, "source_name": "web",
        "billing_address": address("billing"), "shipping_address": address("shipping"),
        "customer": {"id": 7_001_000 + i % 500, "email": "ann.lindqvist@example.com", "first_name": "Ann",
            "last_name": "Lindqvist", "admin_graphql_api_id": format!("gid://shopify/Customer/{}", 7_001_000 + i % 500),
            "state": "enabled", "verified_email": true, "currency": "USD", "default_address": address("default")},
        "line_items": line_items,
        "shipping_lines": [{"id": 4_400_000_000u64 + i, "title": "Standard", "price": "0.00", "code": "STANDARD", "source": "shopify"}],
        "discount_codes": [], "fulfillments": [], "refunds": [],
        "transactions": [{"id": 6_000_000_000u64 + i, "kind": "sale", "status": "success", "gateway": "shopify_payments",
            "amount": "379.12", "payment_details": {"credit_card_bin": "411111", "credit_card_company": "Visa",
            "credit_card_number": "•••• •••• •••• 4242", "avs_result_code": "Y", "cvv_result_code": "M"}}]
    })
}

/// The `p`-th percentile (0–100) of sorted values.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Whether this is a real benchmark run (`cargo bench` passes `--bench`);
/// `cargo test --benches` runs the binary without it: a quick smoke run.
pub(crate) fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `SHOPCASE_BENCH_<name>` as a number, or `default` (`smoke` when not
/// benchmarking).
pub(crate) fn setting(name: &str, default: u64, smoke: u64) -> u64 {
    if benchmarking() {
        env_or(name, default)
    } else {
        smoke
    }
}

/// `SHOPCASE_BENCH_<name>` as a number, or `default`.
pub(crate) fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(format!("SHOPCASE_BENCH_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where a benchmark's hosts keep their data, from the environment:
/// `SHOPCASE_BENCH_BACKEND` (`sqlite`, the default, or `postgres`) and
/// `SHOPCASE_BENCH_REPLICAS` (hosts sharing the database, default 1; more
/// than one needs PostgreSQL). PostgreSQL is the database named by
/// `SHOPCASE_BENCH_DATABASE_URL`, else `SHOPCASE_TEST_DATABASE_URL`; the
/// run gets a schema of its own there (`bench_<pid>`), dropped at the end.
pub(crate) struct Backend {
    pub(crate) replicas: usize,
    /// The database and the run's schema, when on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Backend {
    pub(crate) fn from_env() -> Backend {
        let replicas = env_or("REPLICAS", 1).max(1) as usize;
        let backend = std::env::var("SHOPCASE_BENCH_BACKEND").unwrap_or_else(|_| "sqlite".into());
        let postgres = match backend.as_str() {
            "sqlite" => {
                assert!(
                    replicas == 1,
                    "SHOPCASE_BENCH_REPLICAS={replicas}: several replicas share a PostgreSQL database; set SHOPCASE_BENCH_BACKEND=postgres"
                );
                None
            }
            "postgres" => {
                let base = ["SHOPCASE_BENCH_DATABASE_URL", "SHOPCASE_TEST_DATABASE_URL"]
                    .iter()
                    .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
                    .expect(
                        "SHOPCASE_BENCH_BACKEND=postgres needs SHOPCASE_BENCH_DATABASE_URL (or \
                         SHOPCASE_TEST_DATABASE_URL); `cargo xtask bench-storage` starts a durable cluster",
                    );
                let schema = format!("bench_{}", std::process::id());
                pg_execute(
                    &base,
                    &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
                );
                Some((base, schema))
            }
            other => panic!("SHOPCASE_BENCH_BACKEND={other}: `sqlite` or `postgres`"),
        };
        Backend { replicas, postgres }
    }

    pub(crate) fn name(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// The `[storage]` table of a host whose directory is `dir` (the URL
    /// goes in a file there, as an admin would give it); `sqlite_keys` are
    /// added on SQLite only.
    pub(crate) fn storage_toml(&self, dir: &std::path::Path, sqlite_keys: &str) -> String {
        match &self.postgres {
            None => format!("[storage]\n{sqlite_keys}\n"),
            Some((base, schema)) => {
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                std::fs::write(dir.join("database-url"), url).expect("url file");
                let pool = env_or("POOL", 16);
                format!(
                    "[storage]\nbackend = \"postgres\"\nurl-file = \"database-url\"\npool-size = {pool}\n"
                )
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.postgres {
            pg_execute(base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Run SQL on its own thread and runtime (callable from anywhere).
fn pg_execute(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to the benchmark's database: {e}"));
                tokio::spawn(conn);
                client.batch_execute(&sql).await.expect("benchmark schema");
            })
    })
    .join()
    .expect("database thread");
}

/// Append one run's figures, as a JSON line, to `SHOPCASE_BENCH_REPORT`
/// when set (`cargo xtask bench-storage` collects them into its table).
pub(crate) fn report(figures: serde_json::Value) {
    if let Ok(path) = std::env::var("SHOPCASE_BENCH_REPORT") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("report file");
        writeln!(f, "{figures}").expect("report");
    }
}
