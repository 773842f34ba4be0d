from graphassoc.model.stopper import Stopper


def _m(select: float, met: bool = False) -> dict:
    return {"select": select, "new_item_target_met": met}


def test_moves_within_min_delta_are_not_improvements():
    s = Stopper(patience=2, min_delta=0.001)
    assert s.report(1, _m(0.3343))
    assert not s.report(2, _m(0.3350))  # +0.0007: noise
    assert not s.should_stop
    assert not s.report(3, _m(0.3352))  # still within 0.001 of epoch 1
    assert s.should_stop and s.best_epoch == 1


def test_a_real_gain_resets_patience_and_the_new_item_target_wins_outright():
    s = Stopper(patience=2, min_delta=0.001)
    s.report(1, _m(0.30))
    assert s.report(2, _m(0.302)) and s.bad_epochs == 0 and s.best_epoch == 2
    assert s.report(3, _m(0.290, met=True))  # reaches train.new_item_hr: better whatever the overall HR@10
    assert not s.report(4, _m(0.350))  # a higher HR@10 without the target does not beat it
    assert s.best_epoch == 3


def test_without_min_delta_any_gain_counts():
    s = Stopper(patience=1)
    s.report(1, _m(0.3343))
    assert s.report(2, _m(0.33431))
