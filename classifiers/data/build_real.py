"""Build ``real/*.jsonl``: human-written customer messages from public sets, labelled by rubric.

    python classifiers/data/build_real.py --mirrors /work/.mirror

Each source is read from a git snapshot of its public repository (fetched once by a
maintainer) at a fixed commit, and the input file's git blob id is checked, so the output is
reproduced byte for byte or the script stops. How each source's own labels map onto ours
(complaint, severity, category; see ../RUBRIC.md) is written below, one table per source, and
summarised in SOURCES.md. Intents that mix complaints and plain questions are left out rather
than guessed at. ``group`` is the source's own intent, so a split by group never puts one
intent on both sides.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Snapshot:
    repo: str
    commit: str
    path: str
    blob: str
    licence: str


BANKING77 = [
    Snapshot("PolyAI-LDN/task-specific-datasets", "57ec275d8078af65b7731c2a98be812d844a6d6b",
             f"banking_data/{split}.csv", blob, "CC-BY-4.0")
    for split, blob in (("train", "98e2543cf482d0dca7bfb175ebe35d98efad95be"),
                        ("test", "799687a8367359432985b8b13d85a2baf73f92dd"))
]
BITEXT = Snapshot("bitext/customer-support-llm-chatbot-training-dataset", "337b96868e02b40a05f9c0df3290c65a15ea573e",
                  "data/train/Bitext_Sample_Customer_Support_Training_Dataset.csv",
                  "9e56c982621d2b33f406d7ced07938f9dabe9e92", "CDLA-Sharing-1.0")
SMS = Snapshot("hamzaaacodes/sms-spam-collection", "f3e73e1e74e6330b62d1ee1983bba2a063184c26",
               "SMSSpamCollection", "02baf4248f3157bd82a98bc0c5522b323a2526dd", "CC-BY-4.0 (UCI)")
REVIEWS = [
    Snapshot("KalyaniViswanadha/Sentiment-Analysis", "8033e14ab71cd6d428240acfbbf8c8129b6d21be",
             f"{site}_labelled.txt", blob, "CC-BY-4.0 (UCI)")
    for site, blob in (("amazon_cells", "bb634431c8f380a3533103e3ef4cf5c17f26002e"),
                       ("yelp", "18b41d46791e11c06578e5124da28ae2618a45d8"))
]

# Banking77 intent -> (category, severity) for intents whose messages report a failure.
# Severity by the rubric's impact: money gone or taken without consent is high; a failure that
# costs time is medium; an inconvenience is low.
BANKING77_COMPLAINTS = {
    "Refund_not_showing_up": ("billing", "medium"),
    "balance_not_updated_after_cheque_or_cash_deposit": ("billing", "medium"),
    "beneficiary_not_allowed": ("outage", "low"),
    "card_not_working": ("defect", "medium"),
    "card_payment_fee_charged": ("billing", "medium"),
    "card_payment_not_recognised": ("billing", "high"),
    "card_payment_wrong_exchange_rate": ("billing", "medium"),
    "card_swallowed": ("defect", "medium"),
    "cash_withdrawal_charge": ("billing", "medium"),
    "cash_withdrawal_not_recognised": ("billing", "high"),
    "compromised_card": ("privacy", "high"),
    "contactless_not_working": ("defect", "low"),
    "declined_card_payment": ("defect", "medium"),
    "declined_cash_withdrawal": ("defect", "medium"),
    "declined_transfer": ("outage", "medium"),
    "direct_debit_payment_not_recognised": ("billing", "high"),
    "extra_charge_on_statement": ("billing", "medium"),
    "failed_transfer": ("outage", "medium"),
    "pin_blocked": ("account", "low"),
    "top_up_failed": ("outage", "medium"),
    "top_up_reverted": ("billing", "medium"),
    "transaction_charged_twice": ("billing", "medium"),
    "transfer_fee_charged": ("billing", "medium"),
    "transfer_not_received_by_recipient": ("billing", "medium"),
    "unable_to_verify_identity": ("account", "medium"),
    "virtual_card_not_working": ("defect", "medium"),
    "wrong_amount_of_cash_received": ("billing", "high"),
    "wrong_exchange_rate_for_cash_withdrawal": ("billing", "medium"),
}
# Questions, requests and how-tos: nothing of the bank's has failed.
BANKING77_QUESTIONS = {
    "age_limit", "apple_pay_or_google_pay", "atm_support", "automatic_top_up", "cancel_transfer",
    "card_about_to_expire", "card_acceptance", "card_delivery_estimate", "card_linking", "change_pin",
    "country_support", "disposable_card_limits", "edit_personal_details", "exchange_charge",
    "exchange_rate", "exchange_via_app", "fiat_currency_support", "get_disposable_virtual_card",
    "getting_spare_card", "lost_or_stolen_card", "lost_or_stolen_phone", "order_physical_card",
    "passcode_forgotten", "receiving_money", "supported_cards_and_currencies",
    "top_up_by_bank_transfer_charge", "top_up_by_card_charge", "top_up_by_cash_or_cheque",
    "top_up_limits", "transfer_into_account", "transfer_timing", "verify_my_identity",
    "verify_source_of_funds", "verify_top_up", "visa_or_mastercard", "why_verify_identity",
}
# Left out, both kinds in one intent ("when will my card arrive?" / "my card never arrived"):
# activate_my_card, balance_not_updated_after_bank_transfer, card_arrival, get_physical_card,
# getting_virtual_card, pending_*, request_refund, reverted_card_payment?, terminate_account,
# topping_up_by_card.

# Bitext: three intents report a problem; every other intent is a request or a question.
BITEXT_COMPLAINTS = {
    "complaint": ("other", "low"),
    "payment_issue": ("billing", "medium"),
    "registration_problems": ("account", "low"),
}


def read_blob(mirrors: Path, snap: Snapshot) -> str:
    git_dir = mirrors / snap.repo.replace("/", "+") / "repo"
    spec = f"{snap.commit}:{snap.path}"

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True,
                                  capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(f"cannot read {snap.repo} {spec} from {git_dir}: {exc}") from None

    blob = git("rev-parse", spec).strip()
    if blob != snap.blob:
        raise SystemExit(f"{snap.repo} {spec} is blob {blob}, expected {snap.blob}: not the same data")
    return git("show", spec)


def record(source: str, rid: str, text: str, group: str, label: tuple[str | None, str | None] | None) -> dict:
    category, severity = label if label else (None, None)
    return {"id": f"{source}-{rid}", "text": " ".join(text.split()), "complaint": label is not None,
            "severity": severity, "category": category, "source": source, "group": f"{source}:{group}"}


def banking77(mirrors: Path) -> list[dict]:
    out = []
    for snap in BANKING77:
        split = Path(snap.path).stem
        for n, row in enumerate(csv.DictReader(io.StringIO(read_blob(mirrors, snap)))):
            intent = row["category"]
            if intent in BANKING77_COMPLAINTS:
                out.append(record("banking77", f"{split}{n:05d}", row["text"], intent, BANKING77_COMPLAINTS[intent]))
            elif intent in BANKING77_QUESTIONS:
                out.append(record("banking77", f"{split}{n:05d}", row["text"], intent, None))
    return out


def bitext(mirrors: Path) -> list[dict]:
    rows = csv.DictReader(io.StringIO(read_blob(mirrors, BITEXT)))
    return [record("bitext", f"{n:05d}", row["instruction"], row["intent"], BITEXT_COMPLAINTS.get(row["intent"]))
            for n, row in enumerate(rows)]


def sms(mirrors: Path) -> list[dict]:
    """Personal text messages and SMS spam: real informal writing that reports no failure."""
    out = []
    for n, line in enumerate(read_blob(mirrors, SMS).splitlines()):
        kind, _, text = line.partition("\t")
        if text.strip():
            out.append(record("sms", f"{n:05d}", text, kind, None))
    return out


def reviews(mirrors: Path) -> list[dict]:
    """Single sentences from phone and restaurant reviews: a negative one says something we sold
    or did fell short (a complaint; its severity and category are not labelled), a positive one
    is praise."""
    out = []
    for snap in REVIEWS:
        site = snap.path.split("_")[0]
        for n, line in enumerate(read_blob(mirrors, snap).splitlines()):
            text, _, label = line.rpartition("\t")
            if label.strip() in ("0", "1") and text.strip():
                negative = label.strip() == "0"
                out.append(record("reviews", f"{site}{n:04d}", text, f"{site}-{'negative' if negative else 'positive'}",
                                  ("defect" if site == "amazon" else None, None) if negative else None))
    return out


SOURCES = {"banking77": banking77, "bitext": bitext, "sms": sms, "reviews": reviews}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, required=True, help="folder of fetched git snapshots (owner+name/repo)")
    parser.add_argument("--out", type=Path, default=HERE / "real")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in SOURCES.items():
        records = build(args.mirrors)
        with open(args.out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        complaints = sum(r["complaint"] for r in records)
        print(f"{name}: {len(records)} records, {complaints} complaints")


if __name__ == "__main__":
    main()
