"""Chapter 04: self-attention.

* ``layers`` - :func:`softmax`, :func:`scaled_dot_product_attention` (and the loop version),
  :func:`causal_mask`, :class:`SelfAttention`, :class:`MultiHeadAttention`, :class:`TransformerBlock`;
* ``demos`` - the article's worked example recomputed, softmax saturation, attention maps;
* ``tasks`` - learned sequence tasks (reverse, sort): data, model, :func:`train_sequence_task`;
* ``position`` - permutation equivariance and positional encodings (sinusoidal);
* ``heads`` - splitting and merging heads, key-padding masks, cross-attention written out;
* ``cost`` - FLOPs of a Transformer block by part, time and memory against sequence length.
"""

from .layers import (softmax, attention_loops, scaled_dot_product_attention, causal_mask, SelfAttention, MultiHeadAttention, TransformerBlock)
from .demos import (ARTICLE_INPUTS, WorkedExample, worked_example, ArticleClaims, article_claims, article_pseudocode, plot_worked_example, saturation_stats, plot_saturation, plot_attention)
from .position import (sinusoidal_positions, permutation_error)
from .heads import (split_heads, merge_heads, key_padding_mask, multi_head_attention, torch_reference)
from .cost import (block_flops, attention_crossover, measure_block_cost)
from .tasks import (TASKS, POSITIONS, task_targets, encode_sequences, task_batch, task_test_set, AttentionSequenceModel, train_sequence_task, evaluate_sequence_task, attention_view, parse_digits, plot_task_attention, attention_to_matching_digits)

__all__ = ['softmax', 'attention_loops', 'scaled_dot_product_attention', 'causal_mask', 'SelfAttention', 'MultiHeadAttention', 'TransformerBlock', 'ARTICLE_INPUTS', 'WorkedExample', 'worked_example', 'ArticleClaims', 'article_claims', 'article_pseudocode', 'plot_worked_example', 'saturation_stats', 'plot_saturation', 'plot_attention', 'TASKS', 'POSITIONS', 'task_targets', 'encode_sequences', 'task_batch', 'task_test_set', 'AttentionSequenceModel', 'train_sequence_task', 'evaluate_sequence_task', 'attention_view', 'parse_digits', 'plot_task_attention', 'attention_to_matching_digits', 'sinusoidal_positions', 'permutation_error', 'split_heads', 'merge_heads', 'key_padding_mask', 'multi_head_attention', 'torch_reference', 'block_flops', 'attention_crossover', 'measure_block_cost']
