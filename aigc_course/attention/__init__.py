"""Chapter 04: self-attention.

* ``layers`` - :func:`softmax`, :func:`scaled_dot_product_attention` (and the loop version),
  :func:`causal_mask`, :class:`SelfAttention`, :class:`MultiHeadAttention`, :class:`TransformerBlock`;
* ``demos`` - the article's worked example recomputed, softmax saturation, attention maps;
* ``tasks`` - learned sequence tasks (reverse, sort): data, model, :func:`train_sequence_task`.
"""

from .layers import (softmax, attention_loops, scaled_dot_product_attention, causal_mask, SelfAttention, MultiHeadAttention, TransformerBlock)
from .demos import (ARTICLE_INPUTS, WorkedExample, worked_example, ArticleClaims, article_claims, article_pseudocode, plot_worked_example, saturation_stats, plot_saturation, plot_attention)
from .tasks import (TASKS, task_targets, encode_sequences, task_batch, task_test_set, AttentionSequenceModel, train_sequence_task, evaluate_sequence_task, attention_view, parse_digits, plot_task_attention)

__all__ = ['softmax', 'attention_loops', 'scaled_dot_product_attention', 'causal_mask', 'SelfAttention', 'MultiHeadAttention', 'TransformerBlock', 'ARTICLE_INPUTS', 'WorkedExample', 'worked_example', 'ArticleClaims', 'article_claims', 'article_pseudocode', 'plot_worked_example', 'saturation_stats', 'plot_saturation', 'plot_attention', 'TASKS', 'task_targets', 'encode_sequences', 'task_batch', 'task_test_set', 'AttentionSequenceModel', 'train_sequence_task', 'evaluate_sequence_task', 'attention_view', 'parse_digits', 'plot_task_attention']
