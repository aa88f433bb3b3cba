"""``theano.misc``: helpers of Theano's that user scripts import
(``theano.misc.may_share_memory``)."""
