"""The demo inbox: a morning's worth of realistic support mail for a small online shop.

Complaints of every severity, questions, praise, and the machine mail a real inbox also gets
(an out-of-office reply, a bounce, a newsletter), a reply thread, an HTML-only mail and a
Latin-1 mail, so that ``amends demo`` shows every stage doing its job.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

MAILS: list[dict] = [
    {
        "from": ("Sarah Whitfield", "sarah.whitfield@gmail.example"),
        "subject": "Order #48213 still hasn't arrived",
        "body": "Hi,\n\nI ordered a standing desk (order #48213) on 28 October and was promised "
        "delivery within 5 working days. The tracking page has said \"in transit\" for a week "
        "and I took a day off work on Friday to wait for it. Nobody came.\n\nCan someone tell "
        "me where it actually is?\n\nSarah",
        "key": "sarah-1",
    },
    {
        "from": ("Sarah Whitfield", "sarah.whitfield@gmail.example"),
        "subject": "Re: Order #48213 still hasn't arrived",
        "body": "Now the courier says it was left in a \"safe place\". There is nothing here. "
        "This is the second time this has happened with your shop and I'm close to giving "
        "up on you.\n\nSarah\n\nOn Tue, Example Support wrote:\n> We are checking with the courier.",
        "reply_to": "sarah-1",
        "minutes_later": 40,
    },
    {
        "from": ("Mark Henderson", "mark.henderson@brightway.example"),
        "subject": "Invoice INV-2026-0932 charged twice",
        "body": "Hello,\n\nWe have been charged twice for invoice INV-2026-0932 (£1,240.00 on 2 and "
        "3 November). Our finance team needs the duplicate refunded before month end.\n\n"
        "Regards,\nMark Henderson\nProcurement Lead",
    },
    {
        "from": ("Ben Carter", "ben.carter@outlook.example"),
        "subject": "Mug arrived with a chip",
        "body": "Hi there, small thing: one of the four mugs in my set has a little chip on the "
        "rim. Not a big deal, but thought you should know. Order 51177.\n\nThanks, Ben",
    },
    {
        "from": ("Dave Kowalski", "dkowalski77@yahoo.example"),
        "subject": "THIRD time my order is wrong",
        "body": "This is the third time this year you've sent me the wrong size. I've wasted "
        "hours on returns and I'm out £85 in return postage you never refunded. If this isn't "
        "sorted this week I'm closing my account and telling everyone I know.\n\nSent from my iPhone",
    },
    {
        "from": ("Helen Brooks", "helen.brooks@brookslaw.example"),
        "subject": "Your customer portal exposed my order history to another customer",
        "body": "Dear Sir or Madam,\n\nThis morning I logged in and saw another customer's name, "
        "address and orders. I assume mine are visible to others too. This is a data breach. "
        "I expect a full explanation within 48 hours; otherwise I will report it to the "
        "Information Commissioner's Office and instruct my solicitor.\n\nHelen Brooks",
    },
    {
        "from": ("Jean-Luc Moreau", "jl.moreau@icloud.example"),
        "subject": "Kettle leaking near the socket",
        "body": "The replacement kettle leaks from the base just like the first one. Water ran "
        "onto the plug this morning and it sparked. I don't feel safe using it.\n\nJean-Luc",
    },
    {
        "from": ("Aisha Khan", "aisha.khan@yahoo.example"),
        "subject": "Can I change my delivery address?",
        "body": "Hi, I'm moving next week. Is it possible to change the delivery address on "
        "order 90411, or is it too late? No worries if not.\n\nThanks,\nAisha",
    },
    {
        "from": ("Grace Liu", "grace.liu@fastmail.example"),
        "subject": "Thank you!",
        "body": "Just wanted to say the bookshelf arrived a day early and your driver carried it "
        "upstairs for me. Brilliant service, no problem at all.\n\nGrace",
    },
    {
        "from": ("Fatima Al-Sayed", "fatima.alsayed@hotmail.example"),
        "subject": "Cracked screen on arrival",
        "html": "<html><body><p>Hello,</p><p>The tablet I received yesterday (order "
        "<b>#77812</b>) has a <i>cracked screen</i>. The box was fine, so it must have been "
        "packed like this.</p><p>I'd like a replacement, not a refund.<br>Fatima</p>"
        "</body></html>",
    },
    {
        "from": ("André Lefèvre", "andre.lefevre@orange.example"),
        "subject": "Cafetière cassée / broken coffee maker",
        "body": "Bonjour,\n\nLe colis est arrivé abîmé et la cafetière est cassée. Très déçu.\n"
        "(The parcel arrived damaged and the coffee maker is broken.)\n\nAndré",
        "charset": "iso-8859-1",
    },
    {
        "from": ("Priya Natarajan", "priya.n@outlook.example"),
        "subject": "Locked out of my account",
        "body": "I've been locked out of my account since the password reset on Monday. The "
        "reset email never arrives and the chat bot keeps sending me in circles.\n\nPriya",
    },
    {
        "from": ("Julia Becker", "julia.becker@contoso.example"),
        "subject": "Automatic reply: Your order has shipped",
        "body": "I am out of the office until 30 November with limited access to email.",
        "headers": {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    },
    {
        "from": ("Mail Delivery System", "MAILER-DAEMON@mx.demo.example"),
        "subject": "Undelivered Mail Returned to Sender",
        "report": "<nobody@gone.example>: host mx.gone.example said: 550 5.1.1 User unknown",
    },
    {
        "from": ("ShopWeekly", "news@shopweekly.example"),
        "subject": "Black Friday: 50% off everything!",
        "html": "<html><body><h1>Black Friday!</h1><p>Everything half price.</p></body></html>",
        "headers": {
            "List-Unsubscribe": "<mailto:unsub@shopweekly.example>",
            "Precedence": "bulk",
        },
    },
]


def build(now: datetime | None = None, to: str = "support@demo.amends.test") -> list[bytes]:
    """The demo mails as raw RFC 5322 bytes, dated over the last three hours: a queue with some
    cases overdue and some still within their first-response target, whatever the day."""
    now = now or datetime.now(timezone.utc)
    start = now - timedelta(hours=3)
    ids: dict[str, str] = {}
    out = []
    for i, spec in enumerate(MAILS):
        msg = EmailMessage()
        name, address = spec["from"]
        msg["From"] = f"{name} <{address}>"
        msg["To"] = to
        msg["Subject"] = spec["subject"]
        when = start + timedelta(minutes=spec.get("minutes_later", 0) + i * 9)
        msg["Date"] = format_datetime(when)
        # Stable ids: a second demo run recognises the mail it already stored.
        msg["Message-ID"] = f"<demo-{i}-{spec.get('key', 'mail')}@{address.split('@')[1].lower()}>"
        if "key" in spec:
            ids[spec["key"]] = msg["Message-ID"]
        if "reply_to" in spec:
            msg["In-Reply-To"] = ids[spec["reply_to"]]
            msg["References"] = ids[spec["reply_to"]]
        for key, value in spec.get("headers", {}).items():
            msg[key] = value
        if "report" in spec:
            msg["Return-Path"] = "<>"
            msg.set_content("Your message could not be delivered.\n\n" + spec["report"])
            msg.add_attachment(
                "Reporting-MTA: dns; mx.demo.example\nAction: failed\nStatus: 5.1.1\n",
                subtype="plain",
                filename="details.txt",
            )
            msg.set_type("multipart/report")
            msg.set_param("report-type", "delivery-status")
        elif "html" in spec:
            msg.set_content(spec["html"], subtype="html")
        else:
            msg.set_content(spec["body"], charset=spec.get("charset", "utf-8"), cte="8bit")
        out.append(msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return out
