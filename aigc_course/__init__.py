"""aigc_course: the package the AIGC core-techniques notebooks import, one subpackage per topic.

======================================  ===================================================
chapter                                 subpackage
======================================  ===================================================
00 overview                             :mod:`aigc_course.course` (overview, glossary, references)
01 data preprocessing                   :mod:`aigc_course.preprocessing`
02 GAN (theory, toy ring, D*)           :mod:`aigc_course.gan` (``losses``, ``toy``, ``dstar``, ``plots``)
03 VAE                                  :mod:`aigc_course.vae`
04 self-attention                       :mod:`aigc_course.attention`
05 the MNIST GAN project                :mod:`aigc_course.gan` (``mnist_models``, ``training``, ``runs``)
                                        and :mod:`aigc_course.evaluation` (classifier, IS, FD)
06 applications and outlook             :mod:`aigc_course.applications`
every chapter's exercises               :mod:`aigc_course.checks` (one module per chapter)
======================================  ===================================================

Shared by all: ``config`` (fast mode, budgets, device, seeds, cache), ``data`` (MNIST),
``training`` (progress bar, History, evaluating/frozen, device_of), ``checkpoints`` (the one
checkpoint format), ``validate`` (argument checks, the image-batch check, the pixel mapping),
``files`` (atomic writes, checksums), ``plotting``; the command line is :mod:`aigc_course.cli`.

Importing the package has no side effects: no downloads, no seeding, no thread changes.
"""

__version__ = "0.1.0"
