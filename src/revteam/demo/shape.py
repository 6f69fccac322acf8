"""The tuning constants of the demo company: what shape its funnel, cycles and money take, and why.

Every number here is a knob the generator reads; nothing else in ``revteam.demo`` hard-codes a rate.
They are set so that the *measured* company lands inside the published B2B ranges that PRODUCT.md
lists under "Field figures to shape the demo and the defaults":

* inquiry (lead) → MQL 10–25 %: ``MQL_RATE_BY_SOURCE`` (hand-raise sources convert best);
* MQL → sales-accepted 40–60 %, reps reject 20–40 % of MQLs: ``UNWORKED_MQL_SHARE``,
  ``REJECT_SHARE_OF_WORKED`` (a few reps reject more, see ``people.REP_PROFILES``);
* accepted → SQL 50–70 %: ``SAL_TO_SQL``;
* SQL → won 20–30 %: ``SQL_TO_OPPORTUNITY`` × ``WIN_RATE_BY_SEGMENT`` (open deals at "today" are
  censored, so the measured rate sits a little below the product of the two);
* sales cycles of weeks (SMB) to months (enterprise), larger deals further up-market:
  ``CYCLE_MEDIAN_DAYS`` and ``DEAL_MEDIAN_USD`` (both log-normal);
* a quarter-end push: ``QUARTER_END_PULL`` pulls won deals that would close early next quarter back
  into the last days of this one, the spike every sales leader knows;
* things that fall through (R7): ``UNWORKED_MQL_SHARE`` of MQLs never get a sales touch, and
  ``UNFOLLOWED_WEBINARS`` webinars never get a follow-up from sales.

The measured outcome of the default seed is written up in ``docs/demo.md``.
"""

from __future__ import annotations

# --- volumes at scale 1.0 (``--scale`` multiplies accounts and contacts; the rest follows) ---------
BASE_ACCOUNTS = 2_000
BASE_CONTACTS = 20_000
N_CAMPAIGNS = 41  # catalogue sizes do not scale: a small company still runs its whole programme
N_CONTENT = 150

# --- time ---------------------------------------------------------------------------------------
HISTORY_DAYS = 365  # the year that ends "today"
WARMUP_DAYS = 90  # contacts first seen in the quarter before the year, so deals close from month one
WARMUP_WEIGHT = 0.5  # sign-up rate in that warm-up quarter relative to the year (about 10 % of contacts)
GROWTH_OVER_YEAR = 0.35  # lead volume at the end of the year vs its start (+35 %: a growing company)
MONTH_WEIGHT = {1: 1.0, 2: 1.05, 3: 1.1, 4: 1.0, 5: 1.05, 6: 0.95, 7: 0.8, 8: 0.7, 9: 1.1, 10: 1.15, 11: 1.1, 12: 0.65}
WEEKEND_WEIGHT = 0.3  # sign-ups on a Saturday or Sunday, relative to a weekday

# --- accounts ------------------------------------------------------------------------------------
SEGMENT_SHARE = {"smb": 0.55, "mid_market": 0.33, "enterprise": 0.12}
REGION_SHARE = {"Americas": 0.5, "EMEA": 0.35, "APAC": 0.15}
# how many contacts an account of each segment holds, relative to an SMB account
CONTACT_WEIGHT_BY_SEGMENT = {"smb": 1.0, "mid_market": 1.7, "enterprise": 3.2}

# --- where contacts come from: (source/channel, weight) -------------------------------------------
SOURCE_MIX = (
    ("organic_search", 0.20),
    ("paid_search", 0.13),
    ("paid_social", 0.09),
    ("webinar", 0.12),
    ("event", 0.06),
    ("content_syndication", 0.10),
    ("referral", 0.06),
    ("direct", 0.09),
    ("outbound", 0.15),  # sales-sourced: an SDR adds the prospect and starts a sequence
)
SUBSCRIBER_SOURCES = ("organic_search", "direct", "referral")
SUBSCRIBER_FIRST = 0.45  # of those, the share who first only subscribe (newsletter, blog)
SUBSCRIBER_TO_LEAD = 0.40  # a subscriber who later raises a hand (form, gated download)
CONSENT_MIX = (("opted_in", 0.62), ("unknown", 0.28), ("opted_out", 0.10))

# --- lead → MQL (inquiry → MQL 10–25 %) ---------------------------------------------------------
MQL_RATE_BY_SOURCE = {
    "organic_search": 0.25,
    "paid_search": 0.32,
    "paid_social": 0.19,
    "webinar": 0.32,
    "event": 0.28,
    "content_syndication": 0.13,
    "referral": 0.38,
    "direct": 0.34,
}
MQL_LAG_MEDIAN_DAYS = 18.0  # from becoming a lead to crossing the score threshold
MQL_TRIGGERS = (  # the touch that pushes the score over the threshold
    ("demo_request", 0.34),
    ("pricing_request", 0.20),
    ("webinar_attended", 0.16),
    ("content_download", 0.20),
    ("form_submit", 0.10),
)

# --- MQL → SAL (40–60 %), rejections (20–40 % of MQLs) -----------------------------------------------
UNWORKED_MQL_SHARE = 0.07  # MQLs nobody in sales ever touches ("nine were never worked")
REJECT_SHARE_OF_WORKED = 0.37  # worked MQLs the SDR rejects (recycled or disqualified, with a reason)
DISQUALIFY_SHARE_OF_REJECTS = 0.45  # the rest of the rejections are recycled to nurture
POOR_FIT_REJECT_BOOST = 2.0  # students, consultants and agencies are rejected far more often
HIGH_FIT_REJECT = 0.85  # revenue leaders and ops people are rejected a little less
FIRST_RESPONSE_MEDIAN_HOURS = 5.0  # MQL → first sales touch (log-normal, per-rep multiplier)
HOT_RESPONSE_MEDIAN_HOURS = 0.5  # a demo or pricing request is called back sooner (the SLA gives it an hour)
HOT_RESPONSE_SIGMA = 0.9
PRE_MQL_RESEARCH = 4  # extra pricing views and downloads a lead short of the MQL line may have done first
THIN_MIN_FIT = 0  # leads below MQL with less fit than this cannot engage their way over the line (in practice)
THIN_WINDOW_DAYS = 365  # the scorer reads a year of touches
AE_INTRO_MEDIAN_HOURS = 3.0  # the AE's first e-mail after an SQL handover (the SLA's clock for it)
ATTEMPTS_RANGE = (2, 7)  # calls and e-mails before the SDR decides
POOR_FIT_ATTEMPTS = (1, 2)  # one conversation is enough to hear "I'm a student"...
POOR_FIT_GAP_DAYS = 0.3  # ...so the rep decides within a day or so

# --- SAL → SQL (50–70 %) -----------------------------------------------------------------------------
SAL_TO_SQL = 0.62
RECYCLED_REENGAGE = 0.2  # a recycled lead that comes back above the threshold later

# --- outbound (sales-sourced) ---------------------------------------------------------------------
OUTBOUND_REPLY = 0.36  # prospects who answer the sequence and take a first meeting (→ sal)

# --- SQL → opportunity → won (SQL → won 20–30 %) ---------------------------------------------------
SQL_TO_OPPORTUNITY = 0.88
WIN_RATE_BY_SEGMENT = {"smb": 0.40, "mid_market": 0.33, "enterprise": 0.27}
CYCLE_MEDIAN_DAYS = {"smb": 24.0, "mid_market": 55.0, "enterprise": 105.0}
CYCLE_SIGMA = 0.5
LOST_CYCLE_FACTOR = 0.8  # lost deals die a little faster than won ones close
DEAL_MEDIAN_USD = {"smb": 9_000.0, "mid_market": 34_000.0, "enterprise": 135_000.0}
DEAL_SIGMA = 0.45
# the pipeline a deal walks through before it is won or lost (its stage history, which the forecast learns
# from): a won deal passes every stage; a lost deal stalls in the one it reached last and dies there
PIPELINE_STAGES = ("discovery", "demo", "proposal", "negotiation")
STAGE_TIME_SHARE = (0.25, 0.25, 0.3, 0.2)  # of the cycle spent in each stage (each jittered, log-normal)
STAGE_TIME_SIGMA = 0.4
LOST_FURTHEST_STAGE = (0.35, 0.3, 0.22, 0.13)  # the last stage a lost deal reached, by PIPELINE_STAGES
LOST_STALL_FACTOR = 2.0  # a lost deal lingers this much longer in its last stage
QUARTER_END_PULL = 0.6  # won deals landing early in a quarter pulled back into the last days of the one before
QUARTER_END_WINDOW_DAYS = 30  # "early": the first month of the quarter
COMMITTEE_EXTRA = {"smb": (0, 1), "mid_market": (0, 2), "enterprise": (1, 3)}  # contacts added by the AE
EXPANSION_RATE = 0.3  # a won customer who buys more later in the year
EXPANSION_WIN_RATE = 0.6
ADVOCATE_SHARE = 0.2  # customers who become references, case studies, reviewers

# --- marketing engagement -------------------------------------------------------------------------
TOUCHES_PER_MONTH = 3.0  # engagement touches of an average known contact (log-normal spread)
ENGAGEMENT_SIGMA = 0.8
PRE_MQL_BOOST = 2.5  # contacts heading for MQL engage more in the weeks before
UNFOLLOWED_WEBINARS = 2  # webinars whose attendee list nobody in sales ever worked
WEBINAR_ATTEND_RATE = 0.45
WEBINAR_FOLLOW_UP = 0.55  # attendees of the other webinars who get an SDR follow-up e-mail
UNFOLLOWED_QUIET_DAYS = 14.0  # no sales touch at all this long after an unfollowed webinar

# --- the student wave (what the worker's scoring review exists to catch) ---------------------------
# A LinkedIn flight offering a free "RevOps career guide" with a demo, running the last SURGE_WEEKS
# complete weeks and this one, draws SURGE_CONTACTS sign-ups who all ask for a demo (fast track), most
# of them students whom sales rejects as such. The review rule needs 20+ leads a week from one source,
# so the wave has a fixed size and is left out of companies smaller than SURGE_MIN_SCALE.
SURGE_WEEKS = 4
SURGE_CONTACTS = 115
SURGE_STUDENT_SHARE = 0.55
SURGE_MIN_SCALE = 0.1

# --- handoffs, the SLA and disputes ---------------------------------------------------------------
SLA_V1_DAY = 80.0  # the first agreement is proposed this many days into the year (signed days later)
SLA_V2_DAYS_BEFORE_NOW = 120.0  # the revision in force today
FULL_CONTEXT_DAYS = 60  # handoffs this recent keep the full context packet; older ones a lighter one

# --- targets ---------------------------------------------------------------------------------------
TARGET_STRETCH = (0.95, 1.25)  # monthly target vs what the month turned out to be (some hit, some miss)
