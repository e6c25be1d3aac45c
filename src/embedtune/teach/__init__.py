"""The ``teach`` stage: a stronger offline ranker labels the training rows, and training distils its scores."""

from embedtune.teach.config import TeachConfig
from embedtune.teach.stage import TeachResult, teach
from embedtune.teach.teachers import TeacherPlan, plan_teacher

__all__ = ["TeachConfig", "TeachResult", "TeacherPlan", "plan_teacher", "teach"]
