"""What every finder shares: a finding, its confidence, and the context words around it."""
import re
from dataclasses import dataclass

HIGH, MEDIUM = "high", "medium"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str
    confidence: str = HIGH

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start, "end": self.end, "value": self.value,
                "confidence": self.confidence}


# --- Context -------------------------------------------------------------------------------

_PATIENT_CONTEXT = re.compile(
    r"\b(patients?|pt|admitted|discharged|deceased|inpatient|outpatient|index case"
    r"|his name|her name|name|named|called|mr|mrs|ms|miss|mx)\b|患者|病人|病例|姓名|住院|就诊",
    re.IGNORECASE,
)
_VERSION_CONTEXT = re.compile(
    r"(\bversion|\bver\b\.?|\bv\.?|\brelease|\brev(ision)?\b|\bbuild|\bassay|\bkit|\bfirmware|\bsoftware"
    r"|\bpackage|\blibrary|\bdatabase|\bgenome|\bGRCh|\bhg|\bensembl|\bpipeline|版本)\s*[:#]?\s*$",
    re.IGNORECASE,
)


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width):start]
