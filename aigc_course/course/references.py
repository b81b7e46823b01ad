"""Chapter 06: the article's §7 resources and §10 references, checked and corrected, as data.

Every entry below was checked against a primary or proceedings source (publisher page,
proceedings metadata, arXiv, the course or site itself) while writing the chapter; the
``checked`` field says where. What the article claimed is kept in ``article_said`` when it
was wrong, so the notebook can show the correction. What could not be verified at all is
not recommended: it sits in :data:`DROPPED` with the reason.

Render with :func:`references_markdown` (one section by kind), :func:`corrections_markdown`
(the article's errors side by side with the facts) and :func:`dropped_markdown`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validate import require_choice

KINDS = ("paper", "book", "course", "site", "tool")
ORIGINS = ("article", "added")  # cited by the article, or added by the course


@dataclass(frozen=True)
class Reference:
    """One resource: who, what, where, when, why read it, and how it was checked."""

    key: str
    kind: str
    origin: str
    authors: str
    title: str
    venue: str
    year: int | None
    url: str
    why: str
    checked: str
    article_said: str = ""

    def citation(self) -> str:
        """``Authors (year). *Title*. Venue.`` with a link, in Markdown."""
        year = f" ({self.year})" if self.year else ""
        authors = f"{self.authors}{year}. " if self.authors else ""
        return f"{authors}*{self.title}*. {self.venue}. <{self.url}>"


REFERENCES: tuple[Reference, ...] = (
    # ---- papers the article cites (§7.3, §10), corrected ----
    Reference("goodfellow2014", "paper", "article",
              "Goodfellow, I., Pouget-Abadie, J., Mirza, M., Xu, B., Warde-Farley, D., Ozair, S., Courville, A., Bengio, Y.",
              "Generative Adversarial Nets", "Advances in Neural Information Processing Systems 27 (NIPS 2014), pp. 2672-2680",
              2014, "https://papers.nips.cc/paper/5423-generative-adversarial-nets",
              "The original GAN: the minimax game and its optimal discriminator (chapter 02).",
              "NeurIPS proceedings page (authors); BibTeX of the proceedings (pages)",
              "§10 lists it as 'Goodfellow, I. (2014)', a single author; the paper has eight."),
    Reference("radford2015", "paper", "article", "Radford, A., Metz, L., Chintala, S.",
              "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks",
              "arXiv:1511.06434", 2015, "https://arxiv.org/abs/1511.06434",
              "DCGAN: the convolutional generator/discriminator recipe behind chapter 05's models.",
              "arXiv abstract page and paper header",
              "§7.3.1 calls DCGAN 'an improved version of the variational autoencoder (VAE)'. It is a GAN "
              "whose generator and discriminator are convolutional networks; it has no encoder and no ELBO."),
    Reference("chen2016", "paper", "article", "Chen, X., Duan, Y., Houthooft, R., Schulman, J., Sutskever, I., Abbeel, P.",
              "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative Adversarial Nets",
              "Advances in Neural Information Processing Systems 29 (NIPS 2016), pp. 2172-2180", 2016,
              "https://arxiv.org/abs/1606.03657",
              "A GAN whose extra latent code is kept readable by maximizing mutual information; on MNIST "
              "one code learns the digit class without labels.",
              "NeurIPS proceedings metadata (title, pages); paper header (authors)",
              "§7.3.2 and §10 credit 'Tao Xu et al.' / 'Xu, T., Zhang, X., Huang, X., Le, Q. V., & He, K. (2018)', "
              "ICCV, pp. 7799-7808, with the title cut short. Authors, year, venue and pages are all wrong."),
    Reference("karras2019", "paper", "article", "Karras, T., Laine, S., Aila, T.",
              "A Style-Based Generator Architecture for Generative Adversarial Networks",
              "IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR 2019), pp. 4401-4410", 2019,
              "https://openaccess.thecvf.com/content_CVPR_2019/html/Karras_A_Style-Based_Generator_Architecture_for_Generative_Adversarial_Networks_CVPR_2019_paper.html",
              "StyleGAN: a mapping network and per-layer 'styles' that give scale-specific control of faces.",
              "CVF open-access page (authors, title, pages)",
              "§7.3.2 gives it the invented title 'StyleGAN: Efficient Image Synthesis with Style-Based Generative "
              "Adversarial Networks' and the authors 'Tao Xu et al.'. (The §10 entry is correct.)"),
    Reference("yosinski2014", "paper", "article", "Yosinski, J., Clune, J., Bengio, Y., Lipson, H.",
              "How transferable are features in deep neural networks?",
              "Advances in Neural Information Processing Systems 27 (NIPS 2014), pp. 3320-3328", 2014,
              "https://arxiv.org/abs/1411.1792",
              "Transfer learning: which layers of a trained classifier are general. Not about generative models.",
              "author's project page and NIPS 2014 citation (pages)",
              "§10 gives pages 3624-3632; the paper is on pages 3320-3328."),
    Reference("kingma2013", "paper", "article", "Kingma, D. P., Welling, M.", "Auto-Encoding Variational Bayes",
              "International Conference on Learning Representations (ICLR 2014); arXiv:1312.6114", 2013,
              "https://arxiv.org/abs/1312.6114",
              "The VAE: the reparameterization trick and the ELBO (chapter 03).",
              "arXiv abstract page; OpenReview ICLR 2014 submission"),
    # ---- papers added by the course ----
    Reference("vaswani2017", "paper", "added",
              "Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., Kaiser, L., Polosukhin, I.",
              "Attention Is All You Need", "Advances in Neural Information Processing Systems 30 (NIPS 2017), pp. 5998-6008",
              2017, "https://arxiv.org/abs/1706.03762",
              "The Transformer: scaled dot-product and multi-head attention (chapters 04 and 06). The article "
              "teaches self-attention without citing it.",
              "paper header (authors); proceedings BibTeX (volume, pages)"),
    Reference("ho2020", "paper", "added", "Ho, J., Jain, A., Abbeel, P.", "Denoising Diffusion Probabilistic Models",
              "Advances in Neural Information Processing Systems 33 (NeurIPS 2020); arXiv:2006.11239", 2020,
              "https://arxiv.org/abs/2006.11239",
              "Diffusion models, the family behind image generators such as DALL-E 2, Imagen and Stable "
              "Diffusion; the natural next step after GANs and VAEs, which the article does not mention.",
              "arXiv abstract page; authors' project page"),
    Reference("kingma2019", "paper", "added", "Kingma, D. P., Welling, M.", "An Introduction to Variational Autoencoders",
              "arXiv:1906.02691", 2019, "https://arxiv.org/abs/1906.02691",
              "A long, careful tutorial on VAEs by their inventors: the best next read after chapter 03.",
              "arXiv abstract page"),
    Reference("fan2018", "paper", "added", "Fan, A., Lewis, M., Dauphin, Y.", "Hierarchical Neural Story Generation",
              "Proceedings of the 56th Annual Meeting of the ACL (ACL 2018), pp. 889-898", 2018,
              "https://aclanthology.org/P18-1082",
              "Popularized top-k sampling for text generation, the knob in this chapter's text widget.",
              "ACL Anthology page and BibTeX"),
    Reference("holtzman2020", "paper", "added", "Holtzman, A., Buys, J., Du, L., Forbes, M., Choi, Y.",
              "The Curious Case of Neural Text Degeneration",
              "International Conference on Learning Representations (ICLR 2020)", 2020,
              "https://openreview.net/forum?id=rygGQyrFvH",
              "Why always taking the most likely word gives dull, repetitive text; compares temperature, "
              "top-k and nucleus (top-p) sampling.",
              "OpenReview page; published paper header"),
    Reference("oord2016", "paper", "added",
              "van den Oord, A., Dieleman, S., Zen, H., Simonyan, K., Vinyals, O., Graves, A., Kalchbrenner, N., "
              "Senior, A., Kavukcuoglu, K.",
              "WaveNet: A Generative Model for Raw Audio", "arXiv:1609.03499", 2016, "https://arxiv.org/abs/1609.03499",
              "Generates raw waveforms one sample at a time, like this chapter's text model generates characters.",
              "arXiv abstract page"),
    Reference("gatys2015", "paper", "added", "Gatys, L. A., Ecker, A. S., Bethge, M.", "A Neural Algorithm of Artistic Style",
              "arXiv:1508.06576", 2015, "https://arxiv.org/abs/1508.06576",
              "Neural style transfer, the method behind the DeepArt.io service the article cites (§7.3.3).",
              "arXiv paper header"),
    Reference("carlini2023", "paper", "added",
              "Carlini, N., Hayes, J., Nasr, M., Jagielski, M., Sehwag, V., Tramer, F., Balle, B., Ippolito, D., Wallace, E.",
              "Extracting Training Data from Diffusion Models", "32nd USENIX Security Symposium (2023); arXiv:2301.13188",
              2023, "https://arxiv.org/abs/2301.13188",
              "Large image generators can reproduce training images, faces and logos included: the "
              "memorization risk this chapter measures on MNIST.",
              "an author's publication page (venue); arXiv abstract page"),
    Reference("wang2020", "paper", "added", "Wang, S.-Y., Wang, O., Zhang, R., Owens, A., Efros, A. A.",
              "CNN-generated images are surprisingly easy to spot... for now",
              "IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR 2020)", 2020,
              "https://arxiv.org/abs/1912.11035",
              "A plain image classifier detects images of many generators, with the caveat in its title: the "
              "detector in this chapter is the same idea at MNIST scale.",
              "publisher page (Adobe Research) and CVPR citation"),
    Reference("salimans2016", "paper", "added",
              "Salimans, T., Goodfellow, I., Zaremba, W., Cheung, V., Radford, A., Chen, X.",
              "Improved Techniques for Training GANs",
              "Advances in Neural Information Processing Systems 29 (NIPS 2016), pp. 2234-2242; arXiv:1606.03498", 2016,
              "https://arxiv.org/abs/1606.03498",
              "Introduces the Inception score, the source of chapter 05's Inception-style score (with a digit "
              "classifier in place of the Inception network).",
              "NeurIPS proceedings metadata (title, pages, authors); arXiv abstract page"),
    Reference("heusel2017", "paper", "added",
              "Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B., Hochreiter, S.",
              "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium",
              "Advances in Neural Information Processing Systems 30 (NIPS 2017), pp. 6626-6637; arXiv:1706.08500", 2017,
              "https://arxiv.org/abs/1706.08500",
              "Introduces the Frechet Inception distance, the source of chapter 05's Frechet distance between "
              "Gaussians fitted to classifier features.",
              "NeurIPS proceedings metadata (title, pages, authors); arXiv listing"),
    Reference("karras2018", "paper", "added", "Karras, T., Aila, T., Laine, S., Lehtinen, J.",
              "Progressive Growing of GANs for Improved Quality, Stability, and Variation",
              "International Conference on Learning Representations (ICLR 2018); arXiv:1710.10196", 2018,
              "https://arxiv.org/abs/1710.10196",
              "Introduces the minibatch standard deviation feature of chapter 05's improved discriminator.",
              "arXiv abstract; paper summaries citing ICLR 2018"),
    Reference("xiong2020", "paper", "added",
              "Xiong, R., Yang, Y., He, D., Zheng, K., Zheng, S., Xing, C., Zhang, H., Lan, Y., Wang, L., Liu, T.-Y.",
              "On Layer Normalization in the Transformer Architecture",
              "Proceedings of the 37th International Conference on Machine Learning (ICML 2020), PMLR 119; "
              "arXiv:2002.04745", 2020, "https://arxiv.org/abs/2002.04745",
              "Why the pre-LN block (LayerNorm inside the residual branch), the one chapters 04 and 06 use, trains "
              "without the warm-up the original post-LN Transformer needs.",
              "arXiv paper header (authors, arXiv:2002.04745v2); citations naming ICML 2020"),
    # ---- books (§7.1.1) ----
    Reference("goodfellow2016", "book", "article", "Goodfellow, I., Bengio, Y., Courville, A.", "Deep Learning",
              "MIT Press; free online; Chinese translation 《深度学习》", 2016, "https://www.deeplearningbook.org",
              "The standard reference for the mathematics: probability, optimization, autoencoders, "
              "GANs and VAEs (chapter 20).", "publisher and book site"),
    Reference("chollet2017", "book", "article", "Chollet, F.", "Deep Learning with Python",
              "Manning; 1st edition 2017, 2nd edition 2021 (a 3rd edition, with M. Watson, followed); Chinese title 《Python深度学习》",
              2017, "https://www.manning.com/books/deep-learning-with-python",
              "Practical Keras; its generative-deep-learning chapter covers VAEs and GANs.",
              "publisher pages of the editions",
              "§7.1.1 names the authors 'FrancescoPierro, Lukasz Adamusiak, Wrachford'. The book is by "
              "François Chollet, the creator of Keras."),
    Reference("harrington2012", "book", "article", "Harrington, P.", "Machine Learning in Action",
              "Manning; Chinese title 《机器学习实战》", 2012, "https://www.manning.com/books/machine-learning-in-action",
              "Classical machine learning in Python (k-NN, trees, naive Bayes, SVM, AdaBoost, k-means, PCA, SVD). "
              "Useful background, but it has no GANs, VAEs or attention.",
              "publisher's excerpt and independent reviews (table of contents)",
              "§7.1.1 says it covers 'AIGC-related generative models'. It does not."),
    Reference("prince2023", "book", "added", "Prince, S. J. D.", "Understanding Deep Learning",
              "MIT Press; free PDF and Python notebooks online", 2023, "https://udlbook.github.io/udlbook/",
              "The most up-to-date textbook: transformers, GANs, VAEs, normalizing flows and diffusion, with "
              "exercises. The best single next book after this course.",
              "publisher page (MIT Press) and author's book site"),
    # ---- courses (§7.1.2) ----
    Reference("ng_dls", "course", "article", "Ng, A. (DeepLearning.AI)", "Deep Learning Specialization",
              "Coursera, five courses; launched 2017", 2017, "https://www.coursera.org/specializations/deep-learning",
              "Neural networks, optimization, CNNs and sequence models (attention and transformers in the last course).",
              "course descriptions and learners' reviews of the five courses",
              "§7.1.2 says it is taught 'by Stanford professor Andrew Ng' and covers AIGC. It is offered by "
              "DeepLearning.AI (not a Stanford course) and does not teach GANs or VAEs; those are in the "
              "separate GANs Specialization below."),
    Reference("dlai_gans", "course", "added", "Zhou, S. (DeepLearning.AI)", "Generative Adversarial Networks (GANs) Specialization",
              "Coursera, three courses", None, "https://www.coursera.org/specializations/generative-adversarial-networks-gans",
              "Builds GANs in PyTorch from the basic game to StyleGAN-like control; follows chapters 02 and 05.",
              "DeepLearning.AI announcement and interview with the instructor"),
    Reference("cs236", "course", "added", "Ermon, S. (Stanford University)", "CS236: Deep Generative Models",
              "Stanford course, lecture notes online", None, "https://deepgenerativemodels.github.io/",
              "A university course on the whole family: autoregressive models, VAEs, flows, GANs, "
              "energy-based and diffusion models.", "course site and notes"),
    Reference("udacity_dlnd", "course", "article", "Udacity", "Deep Learning Nanodegree", "Udacity (paid programme)",
              None, "https://www.udacity.com/course/deep-learning-nanodegree--nd101",
              "Project-based: CNNs, RNNs and a GAN project. The syllabus has changed over the years; check it first.",
              "learners' reviews 2017-2019 describing the projects",
              "§7.1.2 calls it 'Deep Learning Engineer Nanodegree Program'; Udacity's programme is the "
              "Deep Learning Nanodegree."),
    # ---- sites and demos (§7.1.3, §7.3.3) ----
    Reference("arxiv", "site", "article", "Cornell University", "arXiv.org", "preprint server", None, "https://arxiv.org",
              "Where almost every paper above first appeared. Preprints are not peer reviewed: check the venue.",
              "the site itself"),
    Reference("tpdne", "site", "article", "Wang, P.", "ThisPersonDoesNotExist.com",
              "web demo, February 2019, using NVIDIA's StyleGAN", 2019, "https://thispersondoesnotexist.com",
              "Each reload shows a face from a StyleGAN trained on photos of real people; a reminder that "
              "'generated' does not mean 'unrelated to real people'.",
              "news reports and design-museum catalogue (creator, date, model)"),
    Reference("deepart", "site", "article", "Gatys, L. A., Ecker, A. S., Bethge, M. and others (University of Tübingen)",
              "DeepArt.io", "web service launched 2015 (style transfer)", 2015, "https://arxiv.org/abs/1508.06576",
              "A real, early public style-transfer service; whether it still runs could not be confirmed, so "
              "the link goes to the method's paper.",
              "interviews with the founders (2016-2017); the paper",
              "§7.3.3 presents it as a current AIGC platform; its current availability could not be verified."),
    # ---- tools (§7.2) ----
    Reference("pytorch", "tool", "article", "", "PyTorch", "open-source deep learning framework", None,
              "https://pytorch.org", "The framework this course uses throughout.", "the project site"),
    Reference("tensorflow", "tool", "article", "", "TensorFlow and TensorBoard", "open-source framework; TensorBoard is its dashboard",
              None, "https://www.tensorflow.org/tensorboard",
              "TensorBoard also works from PyTorch through torch.utils.tensorboard.", "the project sites"),
    Reference("keras", "tool", "article", "", "Keras", "high-level API; Keras 3 (2023) runs on JAX, TensorFlow or PyTorch",
              2023, "https://keras.io", "A compact API for the models of chapters 02-05, now backend-agnostic.",
              "Keras 3 release notes on PyPI; Theano end-of-development announcement (September 2017)",
              "§7.2.3 says Keras is 'based on TensorFlow and Theano'. Theano's development ended with its 1.0 "
              "release in 2017 and Keras no longer supports it; Keras 3 runs on JAX, TensorFlow or PyTorch."),
    Reference("profilers", "tool", "article", "", "cProfile and torch.profiler",
              "Python standard library; PyTorch", None, "https://docs.python.org/3/library/profile.html",
              "Find where time goes: cProfile for Python code, torch.profiler for tensor operations.",
              "Python and PyTorch documentation",
              "§7.2.2 names a tool called 'Profiler' as 'built into Python'. Python ships the profile and "
              "cProfile modules; PyTorch models are better profiled with torch.profiler."),
    Reference("jupyter", "tool", "article", "", "Jupyter (Notebook and JupyterLab)", "open-source notebooks", None,
              "https://jupyter.org", "The format of this course.", "the project site"),
)

DROPPED: tuple[tuple[str, str], ...] = (
    ("edX 'Machine Learning Basic' by the University of Michigan (§7.1.2)",
     "no such course could be found; not recommended."),
    ("Medium 'Deep Learning' blog 'written by Ian Goodfellow and other experts' (§7.1.3)",
     "no such blog could be found; Goodfellow's writing is in the GAN paper, the Deep Learning book and his "
     "NIPS 2016 GAN tutorial."),
)


def _by(kind: str | None = None, origin: str | None = None) -> list[Reference]:
    if kind is not None:
        require_choice("kind", kind, KINDS)
    if origin is not None:
        require_choice("origin", origin, ORIGINS)
    return [r for r in REFERENCES if (kind is None or r.kind == kind) and (origin is None or r.origin == origin)]


def references_markdown(kind: str | None = None, origin: str | None = None) -> str:
    """A Markdown bullet list of the references of one ``kind`` and/or ``origin`` (all when None)."""
    items = _by(kind, origin)
    if not items:
        raise ValueError(f"no references with kind={kind!r} and origin={origin!r}")
    return "\n".join(f"- {r.citation()}  \n  {r.why}" for r in items)


def corrections_markdown() -> str:
    """A Markdown table: what the article said, what is right (every entry with ``article_said``)."""
    rows = ["| Item | The article says | Corrected |", "|---|---|---|"]
    for r in REFERENCES:
        if r.article_said:
            cell = r.citation().replace("|", "\\|")
            rows.append(f"| {r.title} | {r.article_said.replace('|', chr(92) + '|')} | {cell} |")
    return "\n".join(rows)


def dropped_markdown() -> str:
    """The article's resources that could not be verified, with the reason."""
    return "\n".join(f"- ~~{what}~~: {why}" for what, why in DROPPED)
