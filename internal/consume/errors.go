package consume

import "errors"

// ErrPermanent marks a dead-letter error that retrying cannot mend (a
// message too large, an unknown or unauthorised topic): the consumer stops
// instead of retrying for ever.
var ErrPermanent = errors.New("consume: permanent failure")
