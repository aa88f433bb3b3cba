"""theano.tensor.nnet.ctc without warp-ctc: ctc_available() is False and
building the loss raises RuntimeError saying why, as Theano does."""
import pytest

import symnet.tensor as T
from symnet.tensor.nnet.ctc import ConnectionistTemporalClassification, ctc, ctc_available


def test_ctc_is_reported_missing_and_refuses_to_build():
    assert ctc_available() is False
    with pytest.raises(RuntimeError, match=r"ctc: the CTC loss needs Baidu's warp-ctc"):
        ctc(T.ftensor3(), T.imatrix(), T.ivector())
    with pytest.raises(RuntimeError, match="ConnectionistTemporalClassification: .*"
                                           "ctc_available"):
        ConnectionistTemporalClassification()
