"""Chinese definitions of the glossary's terms, for the Chinese edition (中文版).

Keyed by :attr:`Term.english` (a separate table, so that adding a term to ``glossary.py`` never
touches this file); formulas are written exactly as in the English definitions. A term without
an entry here shows its English definition (``definition_zh`` returns it).
"""

from __future__ import annotations

from .glossary import GLOSSARY, Term

DEFINITIONS_ZH: dict[str, str] = {
    "AI-generated content": "由训练好的生成模型产生的文本、图像、音频或其他内容。",
    "generative adversarial network": "生成器与判别器作为双人博弈共同训练；训练结束后只使用生成器。",
    "variational autoencoder": "编码器 q(z|x) 与解码器 p(x|z) 通过最大化证据下界（ELBO）联合训练。",
    "self-attention": "每个位置的输出是值向量的 softmax 加权平均，权重由查询与键的相似度决定。",
    "variational inference": "在一个易于计算的分布族中找出使 ELBO 最大（即使 KL(q(z|x) || p(z|x)) 最小）的成员 q(z|x)，用它近似无法直接计算的后验 p(z|x)（原文说逼近“真实数据的生成过程”，有误，见第 00 章）。",
    "data augmentation": "对训练输入做保持标签不变的随机变换，从而扩大有效训练集。",
    "overfitting": "拟合了训练集中的噪声：训练误差低，在未见过的数据上误差明显更高。",
    "cross-validation": "把数据分成 k 折，每次用 k-1 折训练、用留出的一折验证，重复 k 次，以估计泛化能力。",
    "generative model": "对数据分布建模、并能从中抽取新样本的模型。",
    "prior distribution": "看到任何数据之前潜在编码的分布 p(z)；VAE 的先验是 N(0, I)。",
    "likelihood": "把 p(x | theta) 看作参数 theta 的函数：在这组参数下数据出现的可能性有多大。",
    "minimax game": "一方要最小化的量正是另一方要最大化的量：min_G max_D V(D, G)。",
    "data preprocessing": "训练前对数据进行清洗、归一化和增强。",
    "data cleaning": "找出重复、空白、无效值和离群值，并给出理由。",
    "normalization": "把数值缩放到固定范围（如 [0, 1] 或 [-1, 1]），并且可以精确还原。",
    "standardization": "(x - mu) / sigma，其中 mu 和 sigma 只在训练集上估计。",
    "data leakage": "评估数据的信息进入了训练或预处理。",
    "robust z-score": "0.6745 (v - median) / MAD：一种不会被离群值本身抬高的离群分数。",
    "median absolute deviation": "|x - median(x)| 的中位数，一种稳健的离散程度度量。",
    "label-preserving transformation": "不改变类别的输入变化（例如把数字平移一点）。",
    "sign test": "两个分类器意见不一致的 n 个样本中有 k 个偏向其中一方；若二者准确率相同，则 k ~ Binomial(n, 1/2)。",
    "stratified split": "把每个类别的样本均匀地分发到各折，使每一折都保持整个数据集的类别比例。",
    "generator": "把噪声（或潜在编码）映射为内容的网络。",
    "discriminator": "GAN 中区分真实样本与生成样本的分类器，只在训练时使用。",
    "value function": "E_x[log D(x)] + E_z[log(1 - D(G(z)))]，D 使其最大，G 使其最小。",
    "optimal discriminator": "生成器固定时，D*(x) = p_data(x) / (p_data(x) + p_g(x))。",
    "Jensen-Shannon divergence": "KL(p || m) / 2 + KL(q || m) / 2，其中 m = (p + q) / 2；V(D*, G) = -log 4 + 2 JSD。",
    "non-saturating loss": "-log D(G(z))：即使 D 能识破生成样本，它的梯度仍然很大。",
    "logit": "log(p / (1 - p))，即网络在 sigmoid 之前的输出。",
    "mode coverage": "生成器能再现的数据模式（类别、簇）所占的比例。",
    "mode collapse": "生成器只覆盖数据分布中少数几个模式。",
    "mode hopping": "崩溃的生成器随着判别器追上来，把它仅有的几个模式从一处移到另一处。",
    "Wasserstein distance": "W_1(p, q) = 在所有 1-Lipschitz 函数 f 上取 E_p[f] - E_q[f] 的上确界；两个分布不重叠时，它仍随二者之间的距离增长。",
    "critic": "WGAN 中不带 sigmoid 的判别器：输出实数分数，真实样本与生成样本的平均分数之差用来估计 W_1。",
    "gradient penalty": "在真实样本与生成样本之间的随机点 x_hat 上加 lambda E[(||grad f(x_hat)|| - 1)^2]，使评论家接近 1-Lipschitz。",
    "latent space": "潜在编码 z 所在的空间，解码器或生成器由它产生内容。",
    "encoder / decoder": "把数据映射为潜在编码、再把潜在编码映射回数据的两个网络。",
    "evidence lower bound": "E_q[log p(x|z)] - KL(q(z|x) || p(z))，log p(x) 的一个下界。",
    "Kullback-Leibler divergence": "KL(q || p) = E_q[log q - log p] >= 0，当且仅当 q = p 时为零。",
    "reparameterization trick": "写成 z = mu + sigma * eps，其中 eps ~ N(0, I)，使梯度能传到 mu 和 sigma。",
    "posterior collapse": "q(z|x) 等于先验，于是解码器忽略 z。",
    "active unit": "均值 mu_k(x) 在数据上的方差超过 0.01 的潜在单元。",
    "importance-weighted bound": "对 k 个样本的 p(x|z) p(z) / q(z|x) 取平均再取对数；k 增大时逐渐逼近 log p(x)。",
    "beta-VAE": "KL 项乘以权重 beta，在重构质量与 z 携带的信息量之间权衡。",
    "nat": "以自然对数计量的信息单位：-log p 的单位是奈特；1 nat = 1 / ln 2 bits。",
    "autoencoder": "只用重建损失训练的编码器和解码器（即 beta = 0 的 VAE）；没有任何东西让它的编码服从先验。",
    "bits per dimension": "以奈特为单位的负对数似然除以 D ln 2，其中 D 是像素数。",
    "softmax": "exp(x_i) / sum_j exp(x_j)：和为一的正权重。",
    "query / key / value": "学到的三个投影：查询与键比较，值被加权平均。",
    "scaled dot-product attention": "softmax(Q K^T / sqrt(d)) V。",
    "causal mask": "查询 i 只能关注 j <= i 的键，因此任何位置都看不到未来。",
    "temperature": "softmax(x / T) 中的除数：T 小使权重更尖锐，T 大使权重更平坦。",
    "positional embedding": "每个位置一个向量，加到词元嵌入上，使顺序产生影响。",
    "Transformer block": "注意力层和 MLP，各自带 LayerNorm 和残差连接。",
    "multi-head attention": "在拆分后的投影上并行运行多个注意力头，再拼接起来。",
    "permutation equivariance": "把层的输入位置重新排列，输出也按同样方式重新排列：Attn(P x) = P Attn(x)。",
    "positional encoding": "加到每个词元输入上、取决于其位置的向量（可学习的，或固定的正弦编码）。",
    "residual connection": "把子层的输出加到它的输入上，y = x + F(x)。",
    "key-padding mask": "阻止每个查询关注填充位置的掩码。",
    "cross-attention": "一个序列的查询关注另一个序列的键和值。",
    "layer normalization": "把每个位置的特征标准化为均值 0、方差 1，再用学到的参数重新缩放。",
    "probabilistic generative model": "对数据分布 p(x) 建模、并能从中抽取新样本的模型。",
    "loss function": "训练要最小化的量；VAE 的损失是负的 ELBO。",
    "language model": "给定前面的词元，对下一个词元的概率建模的模型。",
    "unigram baseline": "只按词元出现的频率预测每个词元，不看上下文。",
    "top-k sampling": "只在概率最高的 k 个词元中（重新归一化后）采样。",
    "perplexity": "exp(每个词元的交叉熵)：模型的不确定程度相当于在多少个等可能的选项中挑选。",
    "maximum a posteriori estimate": "使似然乘以先验最大的取值。",
    "memorization": "模型复现训练样本，而不是生成新的样本。",
    "sample rate": "波形每秒的采样点数。",
    "pitch": "人感知到的音符频率；纯音的音高就是它的主频率。",
    "autoregressive model": "把序列的概率写成逐个元素的条件概率 p(x_t | x_<t) 之积的模型，采样时一次生成一个元素。",
    "image restoration": "用模型认为可能的值填补被遮住或带噪声的像素；被遮住的部分是猜出来的，而不是恢复出来的。",
    "Inception score": "在一个分类器下的 exp(mean KL(p(y|x) || p(y)))；十个类别时最大为 10。",
    "Frechet distance": "对两组图像的特征各拟合一个高斯分布，两个高斯之间的距离。",
    "exponential moving average of weights": "网络权重的缓慢更新的平均值，用于采样。",
    "batch normalization": "在批内对每个特征做标准化，再用学到的参数重新缩放。",
    "conditional GAN": "生成器和判别器都额外接收一个标签的 GAN。",
    "checkpoint": "保存下来的训练状态（权重、优化器、轮次、随机数状态），训练可以从这里继续。",
    "diffusion model": "从纯噪声出发、用学到的去噪器一步一步去除噪声的生成器。",
    "forward noising process": "x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps：数据被高斯噪声淹没，任意 t 都有闭式解。",
    "denoising": "从带噪声的输入预测干净数据（或预测加入的噪声）。",
    "noise schedule": "方差 beta_t（等价地 alpha_bar_t），决定第 t 步含有多少噪声。",
    "signal-to-noise ratio": "alpha_bar_t / (1 - alpha_bar_t)：第 t 步信号功率与噪声功率之比。",
    "score matching": "学习得分 grad_x log p(x)；通过去噪学习时，x_t 的得分是 -E[eps | x_t] / sqrt(1 - alpha_bar_t)。",
    "DDIM sampling": "一种确定性的反向过程，复用 DDPM 的网络，并且可以跳过大部分步数。",
    "flow matching": "训练速度场 v(x_t, t)，沿选定的路径把噪声输运到数据；整流流（rectified flow）使用直线路径。",
    "classifier-free guidance": "eps_uncond + w (eps_cond - eps_uncond)：同一个网络在有标签和无标签两种情况下训练，采样时外推。",
    "latent diffusion": "在自编码器的潜在空间而不是像素空间中做扩散（Stable Diffusion 的做法）。",
    "U-Net": "在相同分辨率之间带跳跃连接的卷积编码器-解码器。",
    "deep neural network": "有多个隐藏层的神经网络。",
    "convolutional neural network": "由卷积构成、在图像各位置共享权重的网络。",
    "recurrent neural network": "带隐藏状态、逐步处理序列的网络。",
    "long short-term memory": "一种带门控的 RNN 单元，能在长序列中保留信息。",
    "graphics processing unit": "加速张量运算的并行硬件。",
    "tensor processing unit": "Google 为张量运算设计的加速器。",
}


def definition_zh(term: Term) -> str:
    """The Chinese definition of ``term``, or its English one when none is written yet."""
    return DEFINITIONS_ZH.get(term.english, term.definition)


def untranslated_terms() -> list[str]:
    """English names of the glossary terms that have no Chinese definition yet."""
    return [t.english for t in GLOSSARY if t.english not in DEFINITIONS_ZH]
