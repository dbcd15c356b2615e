"""A knowledge-tracing BERT learns from generated students: three losses at once, each with its curve.

    python examples/09_knowledge_tracing.py                  # 1,500 steps, 40 s on 2 CPU cores
    python examples/09_knowledge_tracing.py --png kt.png     # also draw each term's curve (needs matplotlib)
    python examples/09_knowledge_tracing.py --fast           # 150 steps, to see it run

A bank of 10 skills of 10 questions each, every question with a difficulty; students with an ability
per skill work through a skill's questions in question-id order, a block at a time, and answer rightly
with probability sigmoid(ability - difficulty), an item-response model
(tinybert/student_histories.py draws them, fresh students every step). 15% of each history's
interactions are masked as BERT masks words, and the model (H 64, 2 layers, 4 heads) predicts each
one's question and skill, and the question's difficulty in [0, 1], with the loss
question cross-entropy + skill cross-entropy + 30 x difficulty squared error.
It prints each term by step, then what it learnt on 500 held-out students, each next to a baseline.

Measured on 2 CPU cores (seed 0, 1,500 steps; 40 s):
    steps   question CE   skill CE   difficulty MSE (x 30)    total   (means over each stretch of 150 steps)
      150         4.274      2.011     0.0568 ( 1.704)      7.988
      750         2.213      0.636     0.0354 ( 1.063)      3.912
     1500         1.295      0.519     0.0222 ( 0.665)      2.478
    masked question accuracy 0.732   (always the most frequent question: 0.012)
    masked skill accuracy    0.856   (always the most frequent skill: 0.109)
    difficulty: correlation with the true one 0.839, squared error 0.0219   (from the response alone: 0.462, 0.0584)
The skill comes first (a block's neighbours share it), then the question (within a block, the next
id after its left neighbour's), and the difficulty follows the question. With --difficulty-weight 1 the
difficulty lags (correlation 0.767, squared error 0.0305) while the question gains (accuracy 0.790):
the weight decides how the shared encoder divides its effort between the tasks.
"""

import time

import click
import numpy as np

from tinybert import autograd as ag
from tinybert.models.knowledge_tracing import (CORRECT, INCORRECT, NUM_RESPONSE_IDS, KnowledgeTracingBert,
                                               KnowledgeTracingConfig)
from tinybert.student_histories import draw_question_bank, draw_student_histories, mask_interactions
from tinybert.optim import AdamW, LRScheduler, clip_grad_norm, linear_warmup_decay, parameter_groups
from tinybert.plots import PlotError, pyplot
from tinybert.text.pretraining_data import IGNORE_INDEX

SKILLS, QUESTIONS_PER_SKILL = 10, 10
STUDENTS_PER_BATCH, MIN_LENGTH, MAX_LENGTH = 32, 20, 40
TERMS = ("question", "skill", "difficulty", "total")  # the fields of KnowledgeTracingLosses, total last


def student_batch(rng, bank, num_students):
    """Fresh students' histories, masked for pretraining (MaskedInteractions)."""
    histories = draw_student_histories(rng, bank, num_students, MAX_LENGTH, min_length=MIN_LENGTH)
    return mask_interactions(rng, bank, histories)


def pretrain(model, rng, bank, steps, lr=5e-3):
    """AdamW with BERT's no-decay groups, 10% warmup then linear decay, clipping at norm 1.0.
    Returns each term's value at every step: {term: (steps,) array}."""
    optimizer = AdamW(parameter_groups(model, 0.01), lr=lr, betas=(0.9, 0.98))
    scheduler = LRScheduler(optimizer, lambda step: linear_warmup_decay(step, steps // 10, steps))
    curves = {term: np.zeros(steps) for term in TERMS}
    model.train()
    for step in range(steps):
        batch = student_batch(rng, bank, STUDENTS_PER_BATCH)
        losses = model.loss(model(*batch.inputs), *batch.targets)
        optimizer.zero_grad()
        losses.total.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        for term in TERMS:
            curves[term][step] = getattr(losses, term).item()
    return curves


def print_curves(curves, weight, rows=10):
    """Each term averaged over `rows` equal stretches of steps (one step's batch is noisy)."""
    steps = len(curves["total"])
    click.echo(f"  steps   question CE   skill CE   difficulty MSE (x {weight:g})    total   "
               "(means over each stretch of steps)")
    for stretch in np.array_split(np.arange(steps), min(rows, steps)):
        means = {term: curves[term][stretch].mean() for term in TERMS}
        click.echo(f"  {stretch[-1] + 1:5d}{means['question']:14.3f}{means['skill']:11.3f}"
                   f"{means['difficulty']:11.4f} ({weight * means['difficulty']:6.3f}){means['total']:11.3f}")
    click.echo(f"each term at the end (the last stretch): question {means['question']:.3f} nats, skill "
               f"{means['skill']:.3f} nats, difficulty {means['difficulty']:.4f} "
               f"(x {weight:g} = {weight * means['difficulty']:.3f}), total {means['total']:.3f}")


def draw_curves(curves, weight, path):
    """One panel a term: every step's value, and its running mean over 50 steps."""
    plt = pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(10, 7))
    titles = {"question": "masked-question cross-entropy", "skill": "masked-skill cross-entropy",
              "difficulty": f"difficulty squared error (weight {weight:g})", "total": "total loss"}
    for axis, term in zip(axes.flat, TERMS):
        values = curves[term]
        window = min(50, len(values))
        running = np.convolve(values, np.ones(window) / window, mode="valid")
        axis.plot(np.arange(1, len(values) + 1), values, linewidth=0.5, alpha=0.4, label="each step")
        axis.plot(np.arange(window, len(values) + 1), running, linewidth=1.5, label=f"mean of {window} steps")
        axis.set_title(titles[term], fontsize=10)
        axis.set_xlabel("step")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png")
    plt.close(figure)


def correlation(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def report_held_out(model, bank, train_rng, seed, num_students):
    """Masked question and skill accuracy, and the difficulty's correlation and squared error, on held-out
    students; each next to a baseline fitted on training students."""
    held_out = student_batch(np.random.default_rng(seed + 1), bank, num_students)
    model.eval()
    with ag.no_grad():
        outputs = model(*held_out.inputs)
    chosen = held_out.question_targets != IGNORE_INDEX  # (B, T)
    questions, skills = held_out.question_targets[chosen], held_out.skill_targets[chosen]  # (N,)
    difficulty, predicted = held_out.difficulty_targets[chosen], outputs.difficulty.numpy()[chosen]  # (N,)

    seen = student_batch(train_rng, bank, num_students)  # the baselines learn from students the model saw
    seen_chosen = seen.question_targets != IGNORE_INDEX
    most_frequent_question = np.bincount(seen.question_targets[seen_chosen]).argmax()
    most_frequent_skill = np.bincount(seen.skill_targets[seen_chosen]).argmax()
    mean_by_response = np.zeros(NUM_RESPONSE_IDS)  # from the response alone: the mean difficulty of the questions
    for response in (INCORRECT, CORRECT):          # answered wrongly, and of those answered rightly
        mean_by_response[response] = seen.difficulty_targets[seen_chosen & (seen.responses == response)].mean()
    from_response = mean_by_response[held_out.responses[chosen]]  # (N,)

    question_accuracy = (outputs.question_logits.numpy()[chosen].argmax(-1) == questions).mean()
    skill_accuracy = (outputs.skill_logits.numpy()[chosen].argmax(-1) == skills).mean()
    click.echo(f"held out: {num_students} new students, {chosen.sum()} masked interactions")
    click.echo(f"  masked question accuracy {question_accuracy:.3f}"
               f"   (always the most frequent question: {(questions == most_frequent_question).mean():.3f})")
    click.echo(f"  masked skill accuracy    {skill_accuracy:.3f}"
               f"   (always the most frequent skill: {(skills == most_frequent_skill).mean():.3f})")
    click.echo(f"  difficulty: correlation with the true one {correlation(predicted, difficulty):.3f}, squared error "
               f"{np.mean((predicted - difficulty) ** 2):.4f}   (from the response alone: "
               f"{correlation(from_response, difficulty):.3f}, {np.mean((from_response - difficulty) ** 2):.4f})")


@click.command()
@click.option("--steps", default=1500, show_default=True, type=click.IntRange(min=1),
              help=f"Training batches of {STUDENTS_PER_BATCH} students.")
@click.option("--seed", default=0, show_default=True)
@click.option("--difficulty-weight", default=30.0, show_default=True, type=click.FloatRange(min=0),
              help="The weight of the difficulty's squared error in the loss: try 1 to see what it changes.")
@click.option("--png", type=click.Path(dir_okay=False),
              help="Also draw each term's curve to this PNG (needs matplotlib).")
@click.option("--fast", is_flag=True, help="150 steps and 200 held-out students: checks that it runs, learns a little.")
def main(steps, seed, difficulty_weight, png, fast):
    if png:
        try:
            pyplot()  # before training: a missing matplotlib should not cost the run
        except PlotError as error:
            click.echo(f"error: {error}", err=True)
            raise SystemExit(2)
    steps, held_out_students = (150, 200) if fast else (steps, 500)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    bank = draw_question_bank(rng, SKILLS, QUESTIONS_PER_SKILL)
    ag.manual_seed(seed)
    # fresh students every step: nothing to overfit, so no dropout (it would only slow a run of minutes)
    config = KnowledgeTracingConfig(bank.num_questions, bank.num_skills, max_position_embeddings=MAX_LENGTH,
                                    hidden_dropout=0.0, attention_dropout=0.0, difficulty_weight=difficulty_weight)
    model = KnowledgeTracingBert(config)
    click.echo(f"{SKILLS} skills x {QUESTIONS_PER_SKILL} questions; {steps} steps of {STUDENTS_PER_BATCH} students "
               f"({MIN_LENGTH} to {MAX_LENGTH} interactions each); "
               f"{sum(parameter.size for parameter in model.parameters()):,} parameters")
    curves = pretrain(model, rng, bank, steps)
    print_curves(curves, config.difficulty_weight)
    click.echo(f"({time.perf_counter() - started:.0f} s of training)")
    report_held_out(model, bank, rng, seed, held_out_students)
    if png:
        draw_curves(curves, config.difficulty_weight, png)
        click.echo(f"each term's curve, drawn: {png}")


if __name__ == "__main__":
    main()
