#!/usr/bin/env bash
# Import the Olist marketing funnel (8,000 MQLs, 842 closed deals) into revteam.
# Usage: examples/olist/import.sh [DATASET_DIR]   (default: ../shared/datasets/olist_marketing_funnel)
# The database is REVTEAM_DATABASE_URL (default revteam.db in the working directory). Safe to run twice.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${1:-$here/../../../shared/datasets/olist_marketing_funnel}"
revteam="${REVTEAM_BIN:-revteam}"
[ -f "$data/olist_marketing_qualified_leads_dataset.csv" ] || { echo "Olist data not found in $data" >&2; exit 2; }

"$revteam" import contacts    "$data/olist_marketing_qualified_leads_dataset.csv" --mapping "$here/mqls_as_contacts.toml"
"$revteam" import touchpoints "$data/olist_marketing_qualified_leads_dataset.csv" --mapping "$here/mqls_as_touchpoints.toml"
"$revteam" import deals       "$data/olist_closed_deals_dataset.csv"              --mapping "$here/closed_deals.toml"
"$revteam" stats
