"""Teacher algorithms behind one API, the `Curriculum` artifact's export, and the toy grid.

Every teacher registers itself by name in `TEACHERS` when this package is imported; build one
with `make_teacher("prereq-gate+sec", space, seed=0)`.
"""

from __future__ import annotations

from coachgraph.curriculum.alp_bins import ALPBinsConfig, ALPBinsTeacher
from coachgraph.curriculum.alp_gmm import ALPGMMConfig, ALPGMMTeacher
from coachgraph.curriculum.base import TaskSpace, Teacher, TeacherWrapper
from coachgraph.curriculum.continuous import ContinuousTeacher
from coachgraph.curriculum.covar_gmm import CovarGMMConfig, CovarGMMTeacher
from coachgraph.curriculum.export import (
    load_curriculum,
    record,
    save_curriculum,
    start,
    trl_records,
)
from coachgraph.curriculum.gating import GateConfig, PrerequisiteGate
from coachgraph.curriculum.goals import GoalConfig, GoalDirected
from coachgraph.curriculum.horizon import HorizonConfig, HorizonStages
from coachgraph.curriculum.irt import IRTConfig, IRTTeacher
from coachgraph.curriculum.ladder import FormatLadder, LadderConfig
from coachgraph.curriculum.learnability import LearnabilityConfig, LearnabilityTeacher
from coachgraph.curriculum.learning_progress import (
    LearningProgressConfig,
    LearningProgressTeacher,
)
from coachgraph.curriculum.plr import PLRConfig, PLRTeacher
from coachgraph.curriculum.registry import TEACHERS, make_teacher, register_teacher
from coachgraph.curriculum.riac import RIACConfig, RIACTeacher
from coachgraph.curriculum.sec import SECConfig, SECTeacher
from coachgraph.curriculum.stat_sel import STATSelConfig, STATSelTeacher
from coachgraph.curriculum.toy import TOY_SPACE, ToyConfig, ToyGrid, run_toy
from coachgraph.curriculum.uniform import RandomConfig, RandomTeacher

__all__ = (
    "TEACHERS",
    "TOY_SPACE",
    "ALPBinsConfig",
    "ALPBinsTeacher",
    "ALPGMMConfig",
    "ALPGMMTeacher",
    "ContinuousTeacher",
    "CovarGMMConfig",
    "CovarGMMTeacher",
    "FormatLadder",
    "GateConfig",
    "GoalConfig",
    "GoalDirected",
    "HorizonConfig",
    "HorizonStages",
    "IRTConfig",
    "IRTTeacher",
    "LadderConfig",
    "LearnabilityConfig",
    "LearnabilityTeacher",
    "LearningProgressConfig",
    "LearningProgressTeacher",
    "PLRConfig",
    "PLRTeacher",
    "PrerequisiteGate",
    "RIACConfig",
    "RIACTeacher",
    "RandomConfig",
    "RandomTeacher",
    "SECConfig",
    "SECTeacher",
    "STATSelConfig",
    "STATSelTeacher",
    "TaskSpace",
    "Teacher",
    "TeacherWrapper",
    "ToyConfig",
    "ToyGrid",
    "load_curriculum",
    "make_teacher",
    "record",
    "register_teacher",
    "run_toy",
    "save_curriculum",
    "start",
    "trl_records",
)
