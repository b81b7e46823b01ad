"""The course's bilingual glossary (English / 中文), built on the article's §1.4 terms.

Each entry gives the English term, the article's Chinese term, the acronym (if any), a
one-sentence definition that the course stands behind, and the chapter that teaches it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    acronym: str
    definition: str
    chapter: str


GLOSSARY: tuple[Term, ...] = (
    # §1.4.1 core terms
    Term("AI-generated content", "人工智能生成内容", "AIGC",
         "Text, images, audio or other content produced by a trained generative model.", "00"),
    Term("generative adversarial network", "生成对抗网络", "GAN",
         "A generator and a discriminator trained as a two-player game; after training only the generator is used.", "02, 05"),
    Term("variational autoencoder", "变分自编码器", "VAE",
         "An encoder q(z|x) and decoder p(x|z) trained jointly by maximizing the evidence lower bound (ELBO).", "03"),
    Term("self-attention", "自注意力机制", "",
         "Each position's output is a softmax-weighted average of value vectors, weighted by query-key similarity.", "04"),
    Term("variational inference", "变分推理（通称变分推断）", "VI",
         "Approximating an intractable posterior p(z|x) by the member q(z|x) of a tractable family that maximizes the ELBO, i.e. minimizes KL(q(z|x) || p(z|x)) (the article's \"data-generating process\" is wrong: see chapter 00).", "03"),
    # §1.4.2 related concepts
    Term("data augmentation", "数据增强", "",
         "Label-preserving random transformations of training inputs that enlarge the effective training set.", "01"),
    Term("overfitting", "过拟合", "",
         "Fitting the training set's noise: low training error, markedly higher error on unseen data.", "01"),
    Term("cross-validation", "交叉验证", "CV",
         "Estimating generalization by training on k-1 folds and validating on the held-out fold, k times.", "01"),
    # chapter 00's overview terms (the Chinese edition uses these names)
    Term("generative model", "生成模型", "", "A model of the data distribution from which new samples can be drawn.", "00"),
    Term("prior distribution", "先验分布", "", "The distribution p(z) of latent codes before any data is seen; a VAE's is N(0, I).", "03"),
    Term("likelihood", "似然", "", "p(x | theta) as a function of the parameters theta: how probable the data are under them.", "03, 06"),
    Term("minimax game", "极小极大博弈", "", "One player minimizes what the other maximizes: min_G max_D V(D, G).", "02"),
    # course terms the article uses
    Term("data preprocessing", "数据预处理", "", "Cleaning, normalizing and augmenting data before training.", "01"),
    Term("data cleaning", "数据清洗", "", "Finding duplicates, blanks, invalid values and outliers, with reasons.", "01"),
    Term("normalization", "归一化", "", "Rescaling values to a fixed range such as [0, 1] or [-1, 1], with an exact inverse.", "01"),
    Term("standardization", "标准化", "", "(x - mu) / sigma with mu and sigma fitted on the training split only.", "01"),
    Term("data leakage", "数据泄露", "", "Information from evaluation data reaching training or preprocessing.", "01"),
    Term("robust z-score", "稳健z分数", "", "0.6745 (v - median) / MAD: an outlier score that outliers cannot inflate.", "01"),
    Term("median absolute deviation", "中位数绝对偏差", "MAD", "The median of |x - median(x)|, a robust spread.", "01"),
    Term("label-preserving transformation", "标签保持变换", "", "A change of an input that keeps its class (a small shift of a digit).", "01"),
    Term("sign test", "符号检验", "", "Of the n items on which two classifiers disagree, k favour one; under equal accuracy k ~ Binomial(n, 1/2).", "01"),
    Term("stratified split", "分层抽样", "", "Dealing out each class's items evenly, so every fold keeps the class proportions of the whole set.", "01"),
    Term("generator", "生成器", "G", "The network that maps noise (or a latent code) to content.", "02"),
    Term("discriminator", "判别器", "D", "A GAN's classifier of real versus generated samples, used only during training.", "02"),
    Term("value function", "价值函数", "V(D, G)", "E_x[log D(x)] + E_z[log(1 - D(G(z)))], maximized by D and minimized by G.", "02"),
    Term("optimal discriminator", "最优判别器", "D*", "D*(x) = p_data(x) / (p_data(x) + p_g(x)) for a fixed generator.", "02"),
    Term("Jensen-Shannon divergence", "JS散度", "JSD", "KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2; V(D*, G) = -log 4 + 2 JSD.", "02"),
    Term("non-saturating loss", "非饱和损失", "", "-log D(G(z)): its gradient stays large while D rejects the fakes.", "02, 05"),
    Term("logit", "对数几率", "", "log(p / (1 - p)), a network's output before the sigmoid.", "02"),
    Term("mode coverage", "模式覆盖", "", "The share of the data's modes (classes, clusters) a generator reproduces.", "02, 05"),
    Term("mode collapse", "模式崩溃", "", "A generator covering only a few modes of the data distribution.", "02"),
    Term("mode hopping", "模式跳跃", "", "A collapsed generator moving its few modes from place to place as the discriminator catches up.", "02"),
    Term("Wasserstein distance", "Wasserstein距离", "W1", "W_1(p, q) = sup over 1-Lipschitz f of E_p[f] - E_q[f]; it keeps growing with the distance between distributions that do not overlap.", "02"),
    Term("critic", "评论家", "", "A WGAN's discriminator without a sigmoid: a real-valued score whose mean gap between real and generated samples estimates W_1.", "02"),
    Term("gradient penalty", "梯度惩罚", "GP", "lambda E[(||grad f(x_hat)|| - 1)^2] at random points x_hat between real and generated samples, keeping the critic close to 1-Lipschitz.", "02"),
    Term("latent space", "潜在空间", "", "The space of codes z from which a decoder or generator produces content.", "03"),
    Term("encoder / decoder", "编码器 / 解码器", "", "Networks mapping data to latent codes and latent codes back to data.", "03"),
    Term("evidence lower bound", "证据下界", "ELBO", "E_q[log p(x|z)] - KL(q(z|x) || p(z)), a lower bound on log p(x).", "03"),
    Term("Kullback-Leibler divergence", "KL散度", "KL", "KL(q || p) = E_q[log q - log p] >= 0, zero only when q = p.", "03"),
    Term("reparameterization trick", "重参数化技巧", "", "Writing z = mu + sigma * eps with eps ~ N(0, I) so gradients flow to mu and sigma.", "03"),
    Term("posterior collapse", "后验坍塌", "", "q(z|x) equals the prior, so the decoder ignores z.", "03"),
    Term("active unit", "活跃单元", "", "A latent unit whose mean mu_k(x) varies across the data by more than 0.01.", "03"),
    Term("importance-weighted bound", "重要性加权下界", "IWAE", "log of the average over k samples of p(x|z) p(z) / q(z|x); tightens towards log p(x) as k grows.", "03"),
    Term("beta-VAE", "β-变分自编码器", "", "The KL term weighted by beta, trading reconstruction against the information z carries.", "03"),
    Term("nat", "奈特", "", "The unit of information with natural logarithms: -log p is in nats; 1 nat = 1 / ln 2 bits.", "03"),
    Term("autoencoder", "自编码器", "AE", "An encoder and a decoder trained on reconstruction alone (a VAE with beta = 0); nothing makes its codes follow a prior.", "03"),
    Term("bits per dimension", "每维比特数", "", "A negative log-likelihood in nats divided by D ln 2, with D the number of pixels.", "03"),
    Term("softmax", "Softmax函数", "", "exp(x_i) / sum_j exp(x_j): positive weights that sum to one.", "04"),
    Term("query / key / value", "查询 / 键 / 值", "Q / K / V", "Learned projections: queries are compared with keys; values are averaged.", "04"),
    Term("scaled dot-product attention", "缩放点积注意力", "", "softmax(Q K^T / sqrt(d)) V.", "04"),
    Term("causal mask", "因果掩码", "", "Query i may attend only to keys j <= i, so no position sees the future.", "04, 06"),
    Term("temperature", "温度", "T", "The divisor in softmax(x / T): low T sharpens the weights, high T flattens them.", "04, 06"),
    Term("positional embedding", "位置嵌入", "", "A vector per position added to the token embedding, so order matters.", "04, 06"),
    Term("Transformer block", "Transformer模块", "", "Attention and an MLP, each with LayerNorm and a residual connection.", "04, 06"),
    Term("multi-head attention", "多头注意力", "MHA", "Several attention heads in parallel on split projections, concatenated.", "04"),
    Term("permutation equivariance", "置换等变性", "",
         "Permuting a layer's input positions permutes its outputs the same way: Attn(P x) = P Attn(x).", "04"),
    Term("positional encoding", "位置编码", "",
         "A vector added to each token's input that depends on its position (learned, or sinusoidal and fixed).", "04, 06"),
    Term("residual connection", "残差连接", "", "A sub-layer's output added to its input, y = x + F(x).", "04"),
    Term("key-padding mask", "填充掩码", "", "A mask that stops every query from attending to padding positions.", "04"),
    Term("cross-attention", "交叉注意力", "", "Queries from one sequence attend to keys and values of another.", "04"),
    Term("layer normalization", "层归一化", "LN", "Normalizing each position's features to mean 0 and variance 1, then rescaling them with learned parameters.", "04, 06"),
    Term("probabilistic generative model", "概率生成模型", "", "A model of the data distribution p(x) from which new samples can be drawn.", "02, 03"),
    Term("loss function", "损失函数", "", "The quantity training minimizes; for a VAE the negative ELBO.", "02-05"),
    Term("language model", "语言模型", "LM", "A model of the probability of each next token given the ones before it.", "06"),
    Term("unigram baseline", "一元模型基线", "", "Predicting every token by its frequency alone, ignoring context.", "06"),
    Term("top-k sampling", "top-k采样", "", "Sampling only from the k most likely tokens, renormalized.", "06"),
    Term("perplexity", "困惑度", "", "exp(cross-entropy per token): how many equally likely choices the model is as unsure as.", "06"),
    Term("maximum a posteriori estimate", "最大后验估计", "MAP", "The value that maximizes likelihood times prior.", "06"),
    Term("memorization", "记忆", "", "A model reproducing its training examples instead of new ones.", "05, 06"),
    Term("sample rate", "采样率", "", "Samples of a waveform per second.", "06"),
    Term("pitch", "音高", "", "The perceived frequency of a note, for a pure tone its dominant frequency.", "06"),
    Term("autoregressive model", "自回归模型", "", "A model of a sequence as a product of next-element probabilities p(x_t | x_<t), sampled one element at a time.", "06"),
    Term("image restoration", "图像修复", "", "Filling in hidden or noisy pixels with values a model finds likely; what was hidden is guessed, not recovered.", "06"),
    Term("Inception score", "Inception分数", "IS", "exp(mean KL(p(y|x) || p(y))) under a classifier; 10 is the most for ten classes.", "05"),
    Term("Frechet distance", "弗雷歇距离", "FD", "The distance between Gaussians fitted to the features of two image sets.", "05"),
    Term("exponential moving average of weights", "权重指数移动平均", "EMA", "A slowly updated average of a network's weights, used to sample.", "05"),
    Term("batch normalization", "批归一化", "BN", "Normalizing each feature over the batch, then rescaling it with learned parameters.", "05"),
    Term("conditional GAN", "条件生成对抗网络", "cGAN", "A GAN whose generator and discriminator also receive a label.", "05"),
    Term("checkpoint", "检查点", "", "A saved training state (weights, optimizers, epoch, RNG) from which training resumes.", "05"),
    # chapter 07: diffusion and flow matching (beyond the article)
    Term("diffusion model", "扩散模型", "", "A generator that starts from pure noise and removes it step by step with a learned denoiser.", "07"),
    Term("forward noising process", "前向加噪", "q(x_t|x_0)", "x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps: data drowned in Gaussian noise, in closed form at any t.", "07"),
    Term("denoising", "去噪", "", "Predicting the clean data (or the noise that was added) from a noisy input.", "07"),
    Term("noise schedule", "噪声调度", "", "The variances beta_t, or equivalently alpha_bar_t, that fix how much noise each step t holds.", "07"),
    Term("signal-to-noise ratio", "信噪比", "SNR", "alpha_bar_t / (1 - alpha_bar_t): the power of the signal over that of the noise at step t.", "07"),
    Term("score matching", "得分匹配", "", "Learning the score grad_x log p(x); by denoising, the score of x_t is -E[eps | x_t] / sqrt(1 - alpha_bar_t).", "07"),
    Term("DDIM sampling", "DDIM采样", "DDIM", "A deterministic reverse process that reuses a DDPM's network and can skip most of the steps.", "07"),
    Term("flow matching", "流匹配", "", "Training a velocity field v(x_t, t) to transport noise to data along chosen paths; rectified flow uses straight lines.", "07"),
    Term("classifier-free guidance", "无分类器引导", "CFG", "eps_uncond + w (eps_cond - eps_uncond): one network trained with and without the label, extrapolated at sampling.", "07"),
    Term("latent diffusion", "潜在扩散", "", "Diffusion in an autoencoder's latent space instead of pixel space (the Stable Diffusion recipe).", "07"),
    Term("U-Net", "U形网络", "", "A convolutional encoder-decoder with skip connections between matching resolutions.", "07"),
    # §1.4.3 acronyms
    Term("deep neural network", "深度神经网络", "DNN", "A neural network with several hidden layers.", "00"),
    Term("convolutional neural network", "卷积神经网络", "CNN", "A network of convolutions sharing weights across image positions.", "03, 05"),
    Term("recurrent neural network", "循环神经网络", "RNN", "A network that processes a sequence step by step with a hidden state.", "00"),
    Term("long short-term memory", "长短时记忆网络（通称长短期记忆网络）", "LSTM", "A gated RNN cell that keeps information over long sequences.", "00"),
    Term("graphics processing unit", "图形处理单元", "GPU", "Parallel hardware that speeds up tensor arithmetic.", "00"),
    Term("tensor processing unit", "张量处理单元", "TPU", "Google's accelerator for tensor arithmetic.", "00"),
)


def glossary_markdown(chapter: str | None = None) -> str:
    """The glossary as a Markdown table (optionally only the terms taught in ``chapter``)."""
    if chapter is not None and not (isinstance(chapter, str) and len(chapter) == 2 and chapter.isdigit()):
        raise ValueError(f"chapter must be a two-digit string such as '03', got {chapter!r}")
    rows = ["| English | 中文 | Acronym | Meaning | Chapter |", "|---|---|---|---|---|"]
    for term in GLOSSARY:
        if chapter is None or chapter in term.chapter or _in_range(chapter, term.chapter):
            cells = (term.english, term.chinese, term.acronym, term.definition, term.chapter)
            # "q(z|x)": a bare | would end the table cell
            rows.append("| " + " | ".join(text.replace("|", "\\|") for text in cells) + " |")
    return "\n".join(rows)


def _in_range(chapter: str, spec: str) -> bool:
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            if int(lo) <= int(chapter) <= int(hi):
                return True
    return False
