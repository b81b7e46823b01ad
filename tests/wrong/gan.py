"""Wrong answers to chapter 02's exercises: every one must be graded FAIL."""

import torch
import torch.nn.functional as F

from aigc_course.gan.losses import StepLosses, discriminator_loss, generator_loss


# --- 2.1 discriminator loss ---
def d_loss_log_sigmoid(real_logits, fake_logits):
    """Right formula, computed as log(sigmoid): -inf at logits of ±100."""
    return -(torch.log(torch.sigmoid(real_logits)).mean() + torch.log(1 - torch.sigmoid(fake_logits)).mean())


def d_loss_swapped_labels(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)))


def d_loss_keras_half(real_logits, fake_logits):
    """The article's 0.5 * (d_loss_real + d_loss_fake): half of L_D."""
    return 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def d_loss_pooled_mean(real_logits, fake_logits):
    """One mean over real and fake together: wrong weights when the batch sizes differ (and halves the loss)."""
    logits = torch.cat([real_logits.flatten(), fake_logits.flatten()])
    labels = torch.cat([torch.ones(real_logits.numel()), torch.zeros(fake_logits.numel())])
    return 2 * F.binary_cross_entropy_with_logits(logits, labels)


def d_loss_detached(real_logits, fake_logits):
    """Right value, but .item() cuts the graph: no gradient reaches D."""
    return torch.tensor(discriminator_loss(real_logits, fake_logits).item())


# --- 2.2 generator loss ---
def g_loss_always_minimax(fake_logits, saturating=False):
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def g_loss_helps_discriminator(fake_logits, saturating=False):
    """-log(1 - D(G(z))): minimizing it makes the fakes *less* convincing."""
    if saturating:
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def g_loss_log_sigmoid(fake_logits, saturating=False):
    d = torch.sigmoid(fake_logits)
    return torch.log(1 - d).mean() if saturating else -torch.log(d).mean()


def g_loss_sum(fake_logits, saturating=False):
    return generator_loss(fake_logits, saturating) * fake_logits.numel()


# --- 2.3 the training step ---
def step_without_detach(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    """Forgets fake.detach(): L_D's gradient reaches G and is still in G's .grad when G steps."""
    fake = generator(noise)
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake))
    d_loss.backward()
    d_optimizer.step()
    g_loss = generator_loss(discriminator(generator(noise)), saturating)
    g_loss.backward()
    g_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def step_without_detach_but_zeroed(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    """Same parameters as the reference (G's grads are zeroed in time), but D's loss is back-propagated into G."""
    fake = generator(noise)
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    for p in discriminator.parameters():
        p.requires_grad_(False)
    g_loss = generator_loss(discriminator(generator(noise)), saturating)
    g_loss.backward()
    for p in discriminator.parameters():
        p.requires_grad_(True)
    g_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def step_updates_d_with_g_loss(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    """Like training a combined Keras model without freezing D: D also steps on the generator's loss."""
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    d_optimizer.zero_grad()
    g_loss = generator_loss(discriminator(generator(noise)), saturating)
    g_loss.backward()
    g_optimizer.step()
    d_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def step_leaves_g_loss_in_d(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    """Right parameters, but D is not frozen: L_G's backward writes gradients into D's .grad."""
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = generator_loss(discriminator(generator(noise)), saturating)
    g_loss.backward()
    g_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def step_generator_first(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    g_optimizer.zero_grad()
    for p in discriminator.parameters():
        p.requires_grad_(False)
    g_loss = generator_loss(discriminator(generator(noise)), saturating)
    g_loss.backward()
    for p in discriminator.parameters():
        p.requires_grad_(True)
    g_optimizer.step()
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    d_loss.backward()
    d_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def step_ignores_saturating(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    for p in discriminator.parameters():
        p.requires_grad_(False)
    g_loss = generator_loss(discriminator(generator(noise)))
    g_loss.backward()
    for p in discriminator.parameters():
        p.requires_grad_(True)
    g_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


def step_never_unfreezes_d(generator, discriminator, g_optimizer, d_optimizer, real, noise, saturating=False):
    for p in discriminator.parameters():
        p.requires_grad_(True)  # (needed for its own first backward; then it is left frozen)
    d_optimizer.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    for p in discriminator.parameters():
        p.requires_grad_(False)
    g_loss = generator_loss(discriminator(generator(noise)), saturating)
    g_loss.backward()
    g_optimizer.step()
    return StepLosses(d_loss.item(), g_loss.item())


WRONG = {
    "2.1": [d_loss_log_sigmoid, d_loss_swapped_labels, d_loss_keras_half, d_loss_pooled_mean, d_loss_detached],
    "2.2": [g_loss_always_minimax, g_loss_helps_discriminator, g_loss_log_sigmoid, g_loss_sum],
    "2.3": [step_without_detach, step_without_detach_but_zeroed, step_updates_d_with_g_loss, step_leaves_g_loss_in_d,
            step_generator_first, step_ignores_saturating, step_never_unfreezes_d],
}
