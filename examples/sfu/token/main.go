// Command token makes a join token for the sfu robot or a desktop, on the
// trusted machine that holds the LiveKit server's API secret, and prints
// it: hand it to the participant (-token, or $LIVEKIT_TOKEN), which then
// needs no secret of its own.
//
//	go run ./examples/sfu/token -role robot -identity robot        # publish, send data
//	go run ./examples/sfu/token -role driver -identity alice        # subscribe, send data
//	go run ./examples/sfu/token -role watcher -identity bob -valid 1h  # subscribe only
//
// -api-key and -api-secret default to $LIVEKIT_API_KEY and
// $LIVEKIT_API_SECRET, -room to "lab", -valid to six hours
// (livekit.DefaultTokenValidity). LiveKit checks a token when a participant
// joins (and rejoins), not while it stays in the room.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/rtcbot-go/rtcbot/livekit"
)

func main() {
	apiKey := flag.String("api-key", os.Getenv("LIVEKIT_API_KEY"), "the server's API key (default $LIVEKIT_API_KEY)")
	apiSecret := flag.String("api-secret", os.Getenv("LIVEKIT_API_SECRET"), "the server's API secret (default $LIVEKIT_API_SECRET)")
	room := flag.String("room", "lab", "the room the token joins")
	identity := flag.String("identity", "", "the participant's identity in the room, unique in it (required)")
	role := flag.String("role", "", `what the participant may do: "robot" (publish video, send data), "driver" (subscribe, send data) or "watcher" (subscribe only)`)
	valid := flag.Duration("valid", livekit.DefaultTokenValidity, "how long the token is valid")
	flag.Parse()

	g := livekit.Grant{Room: *room, Identity: *identity, ValidFor: *valid}
	switch *role {
	case "robot":
		g.NoSubscribe = true
	case "driver":
		g.NoPublish = true
	case "watcher":
		g.NoPublish, g.NoData = true, true
	default:
		log.Fatalf("-role %q: want robot, driver or watcher", *role)
	}
	if *identity == "" {
		log.Fatal("-identity is required: the robot's is what the desktops' -robot names (default robot)")
	}
	if *apiKey == "" || *apiSecret == "" {
		log.Fatal("no API key pair: give -api-key and -api-secret (or $LIVEKIT_API_KEY and $LIVEKIT_API_SECRET), the server's keys: setting")
	}
	token, err := livekit.Token(*apiKey, *apiSecret, g)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)
}
