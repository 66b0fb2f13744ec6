"""Pure metric functions of platform-sim (see DESIGN.md section 4).

Every function takes numpy array-likes, converts them once with ``np.asarray`` and
returns a Python float (or, for labels, an int array). Undefined values are ``nan``;
malformed inputs raise ``ValueError``.
"""

from platform_sim.metrics.adoption import crossing_step, machine_share, novelty_rate
from platform_sim.metrics.diversity import (
    chat_dispersion,
    effective_solutions,
    gini,
    hill_number,
    jaccard,
    jaccard_homogenization,
    js_divergence,
    regional_distinctiveness,
    vendi_score,
)
from platform_sim.metrics.insight import (
    INDIVIDUAL,
    REGIONAL,
    UNIVERSAL,
    UNKNOWN,
    estimate_labels,
    heterogeneity_z,
    platform_insight,
    true_labels,
)
from platform_sim.metrics.welfare import (
    atypical_gap,
    outcome_homogenization,
    regret,
    success_rate,
)

__all__ = [
    # adoption
    "crossing_step",
    "machine_share",
    "novelty_rate",
    # diversity
    "chat_dispersion",
    "effective_solutions",
    "gini",
    "hill_number",
    "jaccard",
    "jaccard_homogenization",
    "js_divergence",
    "regional_distinctiveness",
    "vendi_score",
    # insight
    "INDIVIDUAL",
    "REGIONAL",
    "UNIVERSAL",
    "UNKNOWN",
    "estimate_labels",
    "heterogeneity_z",
    "platform_insight",
    "true_labels",
    # welfare
    "atypical_gap",
    "outcome_homogenization",
    "regret",
    "success_rate",
]
