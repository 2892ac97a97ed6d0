"""Synthetic sprint clips with known truth.

- :mod:`gaitlab.evaluation.synth.gait_model`: a 2D sagittal sprint gait model (joint
  positions in metres over time, hip-flexion angle and velocity);
  :mod:`gaitlab.evaluation.synth.truth`: its contacts and per-swing hip-flexion events.
- :mod:`gaitlab.evaluation.synth.render`: draws a shaded, human-like side-view figure from
  2D joint positions in pixels; :mod:`gaitlab.evaluation.synth.scene` the scrolling track background.

``scripts/make_sample_video.py`` combines the two into the committed sample clip.
"""

from gaitlab.evaluation.synth.gait_model import JOINT_NAMES, GaitModel
from gaitlab.evaluation.synth.geometry import hip_flexion_deg
from gaitlab.evaluation.synth.params import GaitParams, SwingParams

__all__ = ["JOINT_NAMES", "GaitModel", "GaitParams", "SwingParams", "hip_flexion_deg"]
