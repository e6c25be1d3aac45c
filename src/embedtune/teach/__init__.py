"""The ``teach`` stage: a stronger offline ranker labels the training rows, and training distils its scores."""

from embedtune.teach.config import TeachConfig
from embedtune.teach.stage import TEACHER_FILE, TeachResult, teach, teacher_rows_path
from embedtune.teach.teachers import TeacherPlan, plan_teacher

__all__ = ["TEACHER_FILE", "TeachConfig", "TeachResult", "TeacherPlan", "plan_teacher", "teach", "teacher_rows_path"]
