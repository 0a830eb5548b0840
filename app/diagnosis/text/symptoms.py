"""Observed symptoms in free text, per category: what a practitioner reports seeing, not the category's name.

A symptom stated without hedging (and not negated) becomes a ``finding`` concern: stronger than a bare mention of
the category ("I think it overfits") but weaker than any measured number, so numbers still decide when they
disagree. Leakage has no entry here: it needs the concrete evidence the set-up and feature patterns look for.

Each symptom pattern on a sentence it matches:

>>> examples = {
...     "label_noise": "the annotators often disagree on edge cases",
...     "data_quality": "the join silently dropped rows with mismatched ids",
...     "training_instability": "the GAN training collapsed after a few epochs",
...     "evaluation_error": "the eval script was reading the training file instead of the test file",
...     "data_drift": "new fraud patterns appeared that we had never seen in training",
...     "underfitting": "it barely beats the majority baseline",
... }
>>> sorted(examples) == sorted(SYMPTOMS), [c for c, x in examples.items() if not SYMPTOMS[c].search(x)]
(True, [])
>>> DISCOVERY.search("an audit found mislabelled rows").group(0)
'audit'
"""

from __future__ import annotations

import re

__all__ = ["DISCOVERY", "SYMPTOMS"]

_I = re.IGNORECASE

# a finding verb turns a plain mention of a category into an observation ("an audit found mislabelled rows")
DISCOVERY = re.compile(
    r"\b(?:found|find|discover\w*|turn(?:s|ed)? out|confirm\w*|audit\w*|inspect\w*|manual(?:ly)? review\w*|"
    r"noticed|realis\w+|realiz\w+|showed|shows|revealed|traced|root[- ]caused)\b",
    _I,
)
_LABELS = r"(?:labels?|annotations?|tags|ground[- ]truth|targets?|classes|codes)"
_PEOPLE = r"(?:annotators?|raters?|labell?ers?|coders?|reviewers?|crowd ?workers?|experts?|radiologists?|vendors?)"

SYMPTOMS: dict[str, re.Pattern[str]] = {
    k: re.compile(v, _I)
    for k, v in {
        "label_noise": (
            r"\b(?:incorrect|wrong|inconsistent|erroneous|noisy|flipped|swapped|contradictory|unreliable|bad)\s+"
            r"(?:\w+\s+)?" + _LABELS + r"|\bmis-?label\w*|\blabel(?:l?ing)?\s+(?:errors?|mistakes?|noise|"
            r"inconsisten\w*|quality)|" + _PEOPLE + r"\s+(?:\w+\s+){0,3}?(?:disagree\w*|are inconsistent|"
            r"were inconsistent|confus\w*|mix(?:ed)? up)|different\s+" + _LABELS + r"?\s*(?:\w+\s+)?depending on "
            r"(?:who|which)|" + _LABELS + r"\s+(?:\w+\s+){0,2}?(?:are|were)\s+(?:often\s+|frequently\s+)?(?:wrong|"
            r"incorrect|inconsistent|noisy)"
        ),
        "data_quality": (
            r"\bnulls?\b|\bmissing values\b|\b(?:pars\w+|cast\w*|convert\w*)\s+(?:\w+\s+){0,5}?(?:fail\w*|errors?|"
            r"into nan|to nan|nans?|nulls?)|schema (?:change|drift|mismatch)\w*|\b(?:different|mixed|inconsistent|"
            r"wrong)\s+units\b|without (?:unit\s+)?conver\w*|\bkg\b[^.;]{0,25}\blbs?\b|\blbs?\b[^.;]{0,25}\bkg\b|"
            r"encoding (?:errors?|issues?|garbage|problems?)|mojibake|\bcorrupt\w*|\bmalformed\b|\bgarbled\b|"
            r"\btruncated\b|\b(?:join|merge)\w*\s+(?:\w+\s+){0,6}?(?:drops?|dropped|lost|loses|duplicat\w*|mismatch\w*)|"
            r"mismatched (?:id|key|join)s?|(?:id|key) formats?\b|silently (?:fill|drop|replac|cast|truncat)\w*|"
            r"fill\w*\s+(?:them\s+|it\s+)?with\s+(?:0|zeros?|-1|-999)\b|(?:placeholder|sentinel) values?|"
            r"duplicate (?:records|rows|entries)|(?:broken|buggy) (?:pipeline|etl|join|parser|feed)|"
            r"etl (?:bug|migration|change|failure)|upstream (?:bug|change|outage)|stale (?:features?|data|tables?)"
        ),
        "training_instability": (
            r"mode collapse|\b(?:training|gan|generator|discriminator|optimi[sz]ation)\s+(?:\w+\s+)?collaps\w*|"
            r"(?:exploding|vanishing) gradients?|gradients?\s+(?:norm\s+)?(?:explod\w*|blow\w* up|vanish\w*)|"
            r"\bdiverg\w*|never converg\w*|fail\w* to converge|(?:results|scores?|metrics?|accuracy|numbers)\s+"
            r"(?:are\s+|is\s+|vary\s+|swing\s+)?(?:all over the place|wildly different|vary (?:a lot|wildly))"
        ),
        "evaluation_error": (
            r"\b(?:evaluat\w+|eval|scor\w+|metrics?|script)\s+(?:\w+\s+){0,6}?(?:on|using|against|loading|loads?|"
            r"reads?|read)\s+(?:the\s+)?train(?:ing)?\s+(?:data|set|split|file|rows)|\btrain(?:ing)?\s+(?:file|set|"
            r"data|split)\s+instead of\s+(?:the\s+)?(?:test|validation|holdout|eval)|instead of\s+(?:the\s+)?"
            r"(?:predicted\s+)?(?:probabilit\w+|scores)|(?:hard|binary|predicted|thresholded) (?:labels|predictions|"
            r"classes)\s+instead\b|(?:a\s+|on\s+a\s+)?different (?:test|validation|evaluation|holdout) (?:sets?|splits?|"
            r"data)|\b(?:micro|macro|weighted)[- ]averag\w*\s+(?:\w+\s+){0,6}?(?:while|whereas|but|vs\.?)\s+(?:\w+\s+)"
            r"{0,4}?(?:micro|macro|weighted)|not (?:directly )?comparable|apples (?:to|and) oranges|bug in (?:the\s+)?"
            r"(?:metric|eval\w*|scoring)|(?:metric|eval\w*|scoring) (?:code|script|function) (?:had|has) a bug"
        ),
        "data_drift": (
            r"(?:never|not)\s+(?:been\s+)?(?:seen|saw|present|observed)\s+(?:\w+\s+){0,3}?(?:in|during)\s+training|"
            r"unseen (?:categories|values|vocabulary|words|products|merchants|devices)|new (?:categories|products|"
            r"user segments?|markets?|campaigns?|vocabulary|fraud patterns|attack patterns|device types?)|"
            r"\b(?:behaviou?r|distributions?|mix|population|demographics?|patterns?)\s+(?:\w+\s+){0,3}?(?:changed|"
            r"shifted|differs?|is different|are different|looks? different)|different (?:mean|distribution|population)"
        ),
        "underfitting": (
            r"\b(?:barely|hardly|only slightly|not even)\s+(?:\w+\s+)?(?:beats?|better than|above)\s+(?:the\s+)?"
            r"(?:chance|random|baseline|majority|naive|trivial)|\b(?:no better|worse) than (?:the\s+)?(?:chance|random|"
            r"baseline|naive|majority|trivial|a constant)|\b(?:model|network|capacity|architecture)\s+(?:is\s+|seems\s+|"
            r"was\s+)?(?:\w+\s+)?too (?:small|simple|weak|shallow)"
        ),
    }.items()
}
