import { useSession } from "../state/session";
import { AuthScreen } from "./auth/AuthScreen";
import { ChatApp } from "./ChatApp";

export function App() {
  const token = useSession((s) => s.token);
  return token ? <ChatApp /> : <AuthScreen />;
}
